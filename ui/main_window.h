#pragma once

#include "emloc/api/device.h"
#include "emloc/api/version.h"
#include "inspect/inspection.h"
#include "jobs/job_worker.h"
#include "jobs/run_record.h"
#include "project/chat.h"
#include "project/dataset_stats.h"
#include "project/plan_preview.h"
#include "project/project.h"

#include <QMainWindow>
#include <QPointer>
#include <QThread>

#include <functional>

class QAction;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

class QTimer;

namespace emloc::ui {

class BudgetPage;
class DataPage;
class ExportPage;
class JobController;
class ModelPage;
class Page;
class ResultsPage;
class RunPage;
struct JobOutcome;

// Makes the job for a project; the engine's pipeline plugs in here (app/gui/main.cpp). Called on
// the GUI thread; the returned function runs on the worker thread, so it must capture by value.
using ProjectJobFactory = std::function<JobFunction(const Project &project)>;
// Writes the run a project stands for as a configuration file for `emloc run` (the engine's own schema);
// throws std::exception with a sentence for a person when the settings or the file are at fault.
using RunConfigurationWriter = std::function<void(const Project &project, const QString &path)>;

// EMLoC Studio's window: a sidebar of pages (Model, Data, Budget, Run, Results, Export), the File,
// Run, View and Help menus, the project file (JSON) and the job controller that runs long work off
// the GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    enum PageIndex {
        ModelPageIndex,
        DataPageIndex,
        BudgetPageIndex,
        RunPageIndex,
        ResultsPageIndex,
        ExportPageIndex
    };
    static constexpr int kPageCount = 6;
    static constexpr int kMaxRecentProjects = 8;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    void setTrainingJobFactory(ProjectJobFactory factory);
    void setExportJobFactory(ProjectJobFactory factory);
    // The engine's planner behind the Budget page's trade-off preview.
    void setPlanProvider(PlanProvider provider);
    void updatePlanPreview();
    // The planner on the built-in catalog behind the Budget page's "What fits…".
    void setCatalogFitProvider(CatalogFitProvider provider);
    void showCatalogFits();
    // The engine's statistics of the training file behind the Data page (computed on a worker thread).
    void setDatasetStatsProvider(DatasetStatsProvider provider);
    void updateDatasetStats();
    // The engine's readers behind the Model and Data pages' checks and previews.
    void setInspectors(ModelInspector model, DatasetInspector dataset);
    // The engine's generation behind the Results page's side-by-side chat.
    void setChatGenerator(ChatGenerator generator);
    // File > Export Run Configuration…: the project as `emloc run`'s configuration file.
    void setRunConfigurationWriter(RunConfigurationWriter writer);
    bool exportRunConfiguration(const QString &path); // shows an error dialog on failure
    // The engine's reader of a run folder: the project's last run on the Results and Run pages.
    void setRunRecordReader(RunRecordReader reader);
    // The engine's versions for Help > About (the widgets do not link LibTorch to ask it themselves).
    void setBuildInfo(const core::BuildInfo &info) { m_buildInfo = info; }

    Project currentProject() const;
    void setProject(const Project &project, const QString &path = {});
    QString projectPath() const { return m_projectPath; }
    bool openProject(const QString &path);   // shows an error dialog on failure
    bool saveProjectAs(const QString &path); // shows an error dialog on failure
    QStringList recentProjects() const;

    // Runs `job` on the worker thread and shows it on the Run page. False while another job runs.
    bool startJob(const QString &name, JobFunction job, qint64 budgetBytes);

    void showPage(int index);
    int currentPageIndex() const;
    Page *page(int index) const;
    QListWidget *navigation() const { return m_navigation; }
    ModelPage *modelPage() const { return m_modelPage; }
    DataPage *dataPage() const { return m_dataPage; }
    BudgetPage *budgetPage() const { return m_budgetPage; }
    RunPage *runPage() const { return m_runPage; }
    ResultsPage *resultsPage() const { return m_resultsPage; }
    ExportPage *exportPage() const { return m_exportPage; }
    JobController *jobController() const { return m_controller; }

public Q_SLOTS:
    void newProject();
    void openProjectDialog();
    bool saveProject();
    bool saveProjectAsDialog();
    void exportRunConfigurationDialog();
    void showAbout();
    void startTraining();
    void startExport();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    // What the end of a job means: a trained adapter can be exported.
    enum class JobKind { Other, Training, Export };

    void createPages();
    void createActions();
    void createMenus();
    void createStatusBar();
    void addRecentProject(const QString &path);
    void rebuildRecentMenu();
    bool maybeSaveChanges();
    void markModified();
    void updateTitle();
    void updateAvailability();
    void updateDeviceStatus();
    void onJobStarted(const QString &name);
    void onJobFinished(const emloc::ui::JobOutcome &outcome);
    // The last run's outputs (summary.json, emulator.json) on the Results and Budget pages.
    void showRunOutputs(const Project &project);
    // Non-empty when the project's run folder holds a corrected adapter that a later, unfinished run did
    // not replace: what to tell a person before the Export page or the chat uses it.
    QString staleOutputsNote() const;
    bool confirmStaleExport();
    void chooseLanguage(const QString &code);
    void restoreSettings();
    void saveSettings();

    JobController *m_controller = nullptr;
    ProjectJobFactory m_trainingFactory;
    ProjectJobFactory m_exportFactory;
    RunConfigurationWriter m_runConfigurationWriter;
    RunRecordReader m_runRecordReader;
    core::BuildInfo m_buildInfo{kVersion};
    PlanProvider m_planProvider;
    CatalogFitProvider m_catalogProvider;
    DatasetStatsProvider m_statsProvider;
    QString m_statsKey;        // what the shown statistics were computed from
    int m_statsGeneration = 0; // a newer request makes older results stale
    QPointer<QThread> m_statsThread;
    QTimer *m_planTimer = nullptr;
    QString m_projectPath;
    bool m_loading = false;
    bool m_closeAfterJob = false;
    bool m_haveTrainedAdapter = false;
    JobKind m_jobKind = JobKind::Other;
    QString m_jobRunFolder;   // the run folder of the training job in flight or last run
    QString m_staleRunFolder; // a run folder whose last run was cancelled or failed

    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_pages = nullptr;
    ModelPage *m_modelPage = nullptr;
    DataPage *m_dataPage = nullptr;
    BudgetPage *m_budgetPage = nullptr;
    RunPage *m_runPage = nullptr;
    ResultsPage *m_resultsPage = nullptr;
    ExportPage *m_exportPage = nullptr;

    QAction *m_newAction = nullptr;
    QAction *m_openAction = nullptr;
    QAction *m_saveAction = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_exportRunAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_startAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_resumeAction = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QList<QAction *> m_pageActions;
    QMenu *m_recentMenu = nullptr;

    QLabel *m_deviceStatus = nullptr;
    QLabel *m_jobStatus = nullptr;
};

} // namespace emloc::ui
