#include "main_window.h"

#include "about_dialog.h"
#include "application_setup.h"
#include "device_ids.h"
#include "error_dialog.h"
#include "format.h"
#include "jobs/background_task.h"
#include "jobs/job_controller.h"
#include "jobs/run_summary.h"
#include "pages/budget_page.h"
#include "pages/data_page.h"
#include "pages/export_page.h"
#include "pages/model_page.h"
#include "pages/results_page.h"
#include "pages/run_page.h"
#include "widgets/catalog_fit_dialog.h"
#include "widgets/chat_panel.h"

#include "emloc/api/run_folder.h"
#include "emloc/api/version.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace emloc::ui {

namespace {

// The devices of a job of several processes ("cuda:0,1": cuda:0 and cuda:1); empty for one process.
QStringList jobProcesses(const QString &device)
{
    const QStringList devices = deviceIds(device);
    return devices.size() > 1 ? devices : QStringList();
}

// A file or folder of a run folder, by core's layout.
QString runFile(const QString &run, std::filesystem::path (core::RunFolder::*part)() const)
{
    return QString::fromStdString((core::RunFolder{run.toStdString()}.*part)().string());
}

const QString kRecentKey = QStringLiteral("recentProjects");
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kPageKey = QStringLiteral("window/page");
const QString kLanguageKey = QStringLiteral("ui/language");
const QString kLastFolderKey = QStringLiteral("ui/lastProjectFolder");
} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setObjectName(QStringLiteral("mainWindow"));
    m_controller = new JobController(this);
    // Edits come in bursts (typing a number): the planner runs once they pause.
    m_planTimer = new QTimer(this);
    m_planTimer->setSingleShot(true);
    m_planTimer->setInterval(250);
    connect(m_planTimer, &QTimer::timeout, this, &MainWindow::updatePlanPreview);
    createPages();
    createActions();
    createMenus();
    createStatusBar();

    connect(m_controller, &JobController::started, this, &MainWindow::onJobStarted);
    connect(m_controller, &JobController::finished, this, &MainWindow::onJobFinished);
    connect(m_controller, &JobController::pausedChanged, this, [this](bool paused) {
        const QString activity = m_runPage->activity();
        m_jobStatus->setText(paused               ? tr("Paused")
                             : activity.isEmpty() ? tr("Running: %1").arg(m_controller->currentJobName())
                                                  : activity);
        m_pauseAction->setEnabled(!paused);
        m_resumeAction->setEnabled(paused);
    });

    setProject(Project());
    restoreSettings();
}

MainWindow::~MainWindow()
{
    if (m_statsThread)
        m_statsThread->wait(); // its result is dropped: this window is gone
}

void MainWindow::createPages()
{
    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    auto *sidebar = new QWidget(central);
    sidebar->setObjectName(QStringLiteral("sidebar"));
    sidebar->setAttribute(Qt::WA_StyledBackground, true);
    auto *sidebarLayout = new QVBoxLayout(sidebar);
    sidebarLayout->setContentsMargins(0, 16, 0, 12);
    sidebarLayout->setSpacing(10);

    auto *brand = new QHBoxLayout;
    brand->setContentsMargins(16, 0, 16, 8);
    brand->setSpacing(10);
    auto *logo = new QLabel(sidebar);
    const int logoSize = fontMetrics().height() * 2;
    logo->setPixmap(QIcon(QStringLiteral(":/icons/emloc-studio.svg")).pixmap(logoSize, logoSize));
    auto *names = new QVBoxLayout;
    names->setSpacing(0);
    auto *title = new QLabel(QString::fromLatin1(kProductName), sidebar);
    title->setObjectName(QStringLiteral("sidebarTitle"));
    auto *version = new QLabel(tr("Version %1").arg(QString::fromLatin1(kVersion)), sidebar);
    version->setObjectName(QStringLiteral("sidebarVersion"));
    names->addWidget(title);
    names->addWidget(version);
    brand->addWidget(logo);
    brand->addLayout(names, 1);
    sidebarLayout->addLayout(brand);

    m_navigation = new QListWidget(sidebar);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setIconSize(QSize(fontMetrics().height() * 5 / 4, fontMetrics().height() * 5 / 4));
    m_navigation->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_navigation->setAccessibleName(tr("Pages"));
    sidebarLayout->addWidget(m_navigation, 1);
    // Wide enough for the product name in the title font, and for the page names.
    title->ensurePolished();
    const int brandWidth = 16 + logoSize + 10 + title->sizeHint().width() + 16;
    sidebar->setFixedWidth(std::max(brandWidth, fontMetrics().horizontalAdvance(QLatin1Char('M')) * 14));

    m_pages = new QStackedWidget(central);
    m_modelPage = new ModelPage(m_pages);
    m_dataPage = new DataPage(m_pages);
    m_budgetPage = new BudgetPage(m_pages);
    m_runPage = new RunPage(m_controller, m_pages);
    m_resultsPage = new ResultsPage(m_pages);
    m_exportPage = new ExportPage(m_pages);
    const struct
    {
        Page *page;
        const char *icon;
    } pages[] = {{m_modelPage, ":/icons/nav-model.svg"},     {m_dataPage, ":/icons/nav-data.svg"},
                 {m_budgetPage, ":/icons/nav-budget.svg"},   {m_runPage, ":/icons/nav-run.svg"},
                 {m_resultsPage, ":/icons/nav-results.svg"}, {m_exportPage, ":/icons/nav-export.svg"}};
    for (const auto &entry : pages) {
        m_pages->addWidget(entry.page);
        auto *item =
            new QListWidgetItem(QIcon(QString::fromLatin1(entry.icon)), entry.page->title(), m_navigation);
        item->setSizeHint(QSize(0, fontMetrics().height() * 5 / 2));
    }
    connect(m_navigation, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0)
            return;
        m_pages->setCurrentIndex(row);
        if (row < m_pageActions.size())
            m_pageActions[row]->setChecked(true);
    });
    m_navigation->setCurrentRow(0);

    for (ProjectPage *page :
         {static_cast<ProjectPage *>(m_modelPage), static_cast<ProjectPage *>(m_dataPage),
          static_cast<ProjectPage *>(m_budgetPage), static_cast<ProjectPage *>(m_exportPage)})
        connect(page, &ProjectPage::changed, this, &MainWindow::markModified);
    connect(m_budgetPage, &BudgetPage::devicesChanged, this, &MainWindow::updateDeviceStatus);
    connect(m_budgetPage, &BudgetPage::catalogRequested, this, &MainWindow::showCatalogFits);
    m_budgetPage->catalogButton()->setEnabled(false); // until the engine's planner is plugged in
    connect(m_budgetPage, &ProjectPage::changed, this, &MainWindow::updateDeviceStatus);
    connect(m_runPage, &RunPage::startRequested, this, &MainWindow::startTraining);
    connect(m_runPage, &RunPage::activityChanged, this, [this](const QString &activity) {
        if (!m_controller->isPaused())
            m_jobStatus->setText(activity);
    });
    connect(m_exportPage, &ExportPage::exportRequested, this, &MainWindow::startExport);

    layout->addWidget(sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
}

void MainWindow::createActions()
{
    m_newAction = new QAction(QIcon(QStringLiteral(":/icons/document-new.svg")), tr("&New Project"), this);
    m_newAction->setShortcut(QKeySequence::New);
    m_newAction->setStatusTip(tr("Start a project with the default settings."));
    connect(m_newAction, &QAction::triggered, this, &MainWindow::newProject);

    m_openAction =
        new QAction(QIcon(QStringLiteral(":/icons/document-open.svg")), tr("&Open Project…"), this);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Open a saved project (*.emloc)."));
    connect(m_openAction, &QAction::triggered, this, &MainWindow::openProjectDialog);

    m_saveAction = new QAction(QIcon(QStringLiteral(":/icons/document-save.svg")), tr("&Save Project"), this);
    m_saveAction->setShortcut(QKeySequence::Save);
    m_saveAction->setStatusTip(tr("Save the model, data, budget and settings."));
    connect(m_saveAction, &QAction::triggered, this, &MainWindow::saveProject);

    m_saveAsAction =
        new QAction(QIcon(QStringLiteral(":/icons/document-save-as.svg")), tr("Save Project &As…"), this);
    m_saveAsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    m_saveAsAction->setStatusTip(tr("Save the project under a new name."));
    connect(m_saveAsAction, &QAction::triggered, this, &MainWindow::saveProjectAsDialog);

    m_exportRunAction = new QAction(tr("Export Run &Configuration…"), this);
    m_exportRunAction->setObjectName(QStringLiteral("exportRunConfiguration"));
    m_exportRunAction->setStatusTip(
        tr("Write the run as a configuration file for emloc run, e.g. to train on a server without a "
           "screen."));
    m_exportRunAction->setEnabled(false); // until the engine is plugged in
    connect(m_exportRunAction, &QAction::triggered, this, &MainWindow::exportRunConfigurationDialog);

    m_quitAction = new QAction(QIcon(QStringLiteral(":/icons/application-exit.svg")), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_startAction =
        new QAction(QIcon(QStringLiteral(":/icons/media-start.svg")), tr("&Start Training"), this);
    m_startAction->setShortcut(QKeySequence(Qt::Key_F5));
    connect(m_startAction, &QAction::triggered, this, &MainWindow::startTraining);
    m_pauseAction = new QAction(QIcon(QStringLiteral(":/icons/media-pause.svg")), tr("&Pause"), this);
    m_pauseAction->setShortcut(QKeySequence(Qt::Key_F6));
    connect(m_pauseAction, &QAction::triggered, m_controller, &JobController::pause);
    m_resumeAction = new QAction(QIcon(QStringLiteral(":/icons/media-resume.svg")), tr("&Resume"), this);
    m_resumeAction->setShortcut(QKeySequence(Qt::Key_F7));
    connect(m_resumeAction, &QAction::triggered, m_controller, &JobController::resume);
    m_cancelAction = new QAction(QIcon(QStringLiteral(":/icons/media-stop.svg")), tr("&Cancel"), this);
    m_cancelAction->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    connect(m_cancelAction, &QAction::triggered, m_runPage->cancelButton(), &QPushButton::click);

    m_aboutAction = new QAction(QIcon(QStringLiteral(":/icons/help-about.svg")),
                                tr("&About %1").arg(QString::fromLatin1(kProductName)), this);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

    auto *pageGroup = new QActionGroup(this);
    for (int i = 0; i < kPageCount; ++i) {
        auto *action = new QAction(QStringLiteral("&%1  %2").arg(i + 1).arg(page(i)->title()), this);
        action->setCheckable(true);
        action->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
        action->setActionGroup(pageGroup);
        connect(action, &QAction::triggered, this, [this, i] { showPage(i); });
        m_pageActions << action;
    }
    m_pageActions.first()->setChecked(true);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newAction);
    file->addAction(m_openAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    file->addSeparator();
    file->addAction(m_saveAction);
    file->addAction(m_saveAsAction);
    file->addAction(m_exportRunAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    run->addAction(m_startAction);
    run->addAction(m_pauseAction);
    run->addAction(m_resumeAction);
    run->addAction(m_cancelAction);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addActions(m_pageActions);
    view->addSeparator();
    QMenu *language = view->addMenu(tr("&Language"));
    auto *languageGroup = new QActionGroup(this);
    const QString current = QSettings().value(kLanguageKey, QStringLiteral("system")).toString();
    QList<QPair<QString, QString>> languages{{QStringLiteral("system"), tr("System Default")}};
    languages += availableLanguages();
    for (const auto &[code, name] : languages) {
        QAction *action = language->addAction(name);
        action->setCheckable(true);
        action->setChecked(code == current);
        action->setActionGroup(languageGroup);
        connect(action, &QAction::triggered, this, [this, code = code] { chooseLanguage(code); });
    }

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_aboutAction);
    QAction *aboutQt = help->addAction(tr("About &Qt"));
    aboutQt->setMenuRole(QAction::AboutQtRole);
    connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);
}

void MainWindow::createStatusBar()
{
    m_deviceStatus = new QLabel(statusBar());
    m_deviceStatus->setObjectName(QStringLiteral("deviceStatus"));
    m_jobStatus = new QLabel(tr("Idle"), statusBar());
    m_jobStatus->setObjectName(QStringLiteral("jobStatus"));
    statusBar()->addPermanentWidget(m_deviceStatus);
    statusBar()->addPermanentWidget(m_jobStatus);
    statusBar()->setSizeGripEnabled(true);
    updateDeviceStatus();
}

void MainWindow::setTrainingJobFactory(ProjectJobFactory factory)
{
    m_trainingFactory = std::move(factory);
    updateAvailability();
}

void MainWindow::setExportJobFactory(ProjectJobFactory factory)
{
    m_exportFactory = std::move(factory);
    updateAvailability();
}

Project MainWindow::currentProject() const
{
    Project project;
    m_modelPage->writeTo(project);
    m_dataPage->writeTo(project);
    m_budgetPage->writeTo(project);
    m_exportPage->writeTo(project);
    return project;
}

void MainWindow::setProject(const Project &project, const QString &path)
{
    m_loading = true;
    m_modelPage->readFrom(project);
    m_dataPage->readFrom(project);
    m_budgetPage->readFrom(project);
    m_exportPage->readFrom(project);
    m_loading = false;
    m_projectPath = path;
    setWindowModified(false);
    updateTitle();
    updateAvailability();
    updateDeviceStatus();
    m_planTimer->start();
    showRunOutputs(project);
}

void MainWindow::showRunOutputs(const Project &project)
{
    const QString run = project.runFolder();
    // The engine's summary of the folder's last run: its stages, held-out comparison and training losses.
    // An empty record hides them: another project's results must not stay on screen, nor an earlier run's
    // once a later one in this folder was cancelled.
    RunRecord record;
    if (m_runRecordReader && !run.isEmpty() && run != m_staleRunFolder)
        record = m_runRecordReader(run);
    if (!record.error.isEmpty())
        statusBar()->showMessage(tr("The last run's results were not shown: %1").arg(record.error));
    m_resultsPage->setEvaluation(record.summary);
    m_resultsPage->setRecord(record);
    m_runPage->showRecord(record);
    // The emulator's retained-energy curve, for the Budget page's trade-off view.
    QFile report(runFile(run, &core::RunFolder::emulatorReport));
    m_budgetPage->setCalibration(report.open(QIODevice::ReadOnly)
                                     ? QJsonDocument::fromJson(report.readAll()).object()
                                     : QJsonObject());
}

bool MainWindow::openProject(const QString &path)
{
    QString error;
    const std::optional<Project> project = Project::load(path, &error);
    if (!project) {
        showError(this, tr("The project could not be opened."), error);
        return false;
    }
    setProject(*project, QFileInfo(path).absoluteFilePath());
    addRecentProject(m_projectPath);
    statusBar()->showMessage(tr("Opened %1").arg(QDir::toNativeSeparators(m_projectPath)), 5000);
    return true;
}

bool MainWindow::saveProjectAs(const QString &path)
{
    QString error;
    if (!currentProject().save(path, &error)) {
        showError(this, tr("The project was not saved."), error);
        return false;
    }
    m_projectPath = QFileInfo(path).absoluteFilePath();
    setWindowModified(false);
    updateTitle();
    addRecentProject(m_projectPath);
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(m_projectPath)), 5000);
    return true;
}

QStringList MainWindow::recentProjects() const
{
    return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::newProject()
{
    if (!maybeSaveChanges())
        return;
    setProject(Project());
    m_budgetPage->refreshDevices();
    showPage(ModelPageIndex);
}

void MainWindow::openProjectDialog()
{
    if (!maybeSaveChanges())
        return;
    QSettings settings;
    const QString folder = settings.value(kLastFolderKey, QDir::homePath()).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Project"), folder,
        tr("EMLoC Studio projects (*.%1);;All files (*)").arg(QLatin1String(kProjectSuffix)));
    if (path.isEmpty())
        return;
    settings.setValue(kLastFolderKey, QFileInfo(path).absolutePath());
    openProject(path);
}

bool MainWindow::saveProject()
{
    if (m_projectPath.isEmpty())
        return saveProjectAsDialog();
    return saveProjectAs(m_projectPath);
}

bool MainWindow::saveProjectAsDialog()
{
    QSettings settings;
    const QString folder = m_projectPath.isEmpty()
                               ? settings.value(kLastFolderKey, QDir::homePath()).toString()
                               : QFileInfo(m_projectPath).absolutePath();
    QString path = QFileDialog::getSaveFileName(
        this, tr("Save Project"),
        QDir(folder).filePath(tr("project") + QLatin1Char('.') + QLatin1String(kProjectSuffix)),
        tr("EMLoC Studio projects (*.%1)").arg(QLatin1String(kProjectSuffix)));
    if (path.isEmpty())
        return false;
    if (QFileInfo(path).suffix().isEmpty())
        path += QLatin1Char('.') + QLatin1String(kProjectSuffix);
    settings.setValue(kLastFolderKey, QFileInfo(path).absolutePath());
    return saveProjectAs(path);
}

void MainWindow::setRunRecordReader(RunRecordReader reader)
{
    m_runRecordReader = std::move(reader);
    showRunOutputs(currentProject());
}

void MainWindow::setRunConfigurationWriter(RunConfigurationWriter writer)
{
    m_runConfigurationWriter = std::move(writer);
    m_exportRunAction->setEnabled(bool(m_runConfigurationWriter));
}

bool MainWindow::exportRunConfiguration(const QString &path)
{
    try {
        m_runConfigurationWriter(currentProject(), path);
    } catch (const std::exception &e) {
        showError(this, tr("The run configuration was not written."), QString::fromUtf8(e.what()));
        return false;
    }
    statusBar()->showMessage(
        tr("Wrote %1: run it with  emloc run \"%1\"").arg(QDir::toNativeSeparators(path)), 10000);
    return true;
}

void MainWindow::exportRunConfigurationDialog()
{
    QSettings settings;
    const QString folder = m_projectPath.isEmpty()
                               ? settings.value(kLastFolderKey, QDir::homePath()).toString()
                               : QFileInfo(m_projectPath).absolutePath();
    const QString name = m_projectPath.isEmpty() ? tr("run") : QFileInfo(m_projectPath).completeBaseName();
    QString path = QFileDialog::getSaveFileName(this, tr("Export Run Configuration"),
                                                QDir(folder).filePath(name + QStringLiteral(".json")),
                                                tr("Run configurations (*.json)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".json");
    settings.setValue(kLastFolderKey, QFileInfo(path).absolutePath());
    exportRunConfiguration(path);
}

void MainWindow::showAbout()
{
    AboutDialog dialog(m_buildInfo, this);
    dialog.exec();
}

void MainWindow::startTraining()
{
    if (m_controller->isRunning())
        return;
    const std::pair<ProjectPage *, int> pages[] = {
        {m_modelPage, ModelPageIndex}, {m_dataPage, DataPageIndex}, {m_budgetPage, BudgetPageIndex}};
    for (const auto &[projectPage, index] : pages) {
        const QString problem = projectPage->problem();
        if (!problem.isEmpty()) {
            showPage(index);
            showError(this, tr("Training cannot start yet."), problem);
            return;
        }
    }
    if (!m_trainingFactory) {
        showError(this, tr("Training is not available in this build of EMLoC Studio."),
                  tr("Use a build that includes the EMLoC engine's training stages."));
        return;
    }
    const Project project = currentProject();
    if (startJob(tr("Training"), m_trainingFactory(project), m_budgetPage->budgetBytes())) {
        m_runPage->setJobProcesses(jobProcesses(project.budget.device));
        m_jobKind = JobKind::Training;
        m_jobRunFolder = project.runFolder();
    }
}

void MainWindow::startExport()
{
    if (m_controller->isRunning() || !m_exportFactory)
        return;
    const QString problem = m_exportPage->problem();
    if (!problem.isEmpty()) {
        showError(this, tr("The export cannot start yet."), problem);
        return;
    }
    if (!staleOutputsNote().isEmpty() && !confirmStaleExport())
        return;
    if (startJob(tr("Export"), m_exportFactory(currentProject()), 0))
        m_jobKind = JobKind::Export;
}

bool MainWindow::startJob(const QString &name, JobFunction job, qint64 budgetBytes)
{
    if (m_controller->isRunning())
        return false;
    m_jobKind = JobKind::Other;
    m_runPage->prepareRun(budgetBytes);
    showPage(RunPageIndex);
    return m_controller->start(name, std::move(job));
}

bool MainWindow::confirmStaleExport()
{
    QMessageBox box(QMessageBox::Warning, QString::fromLatin1(kProductName),
                    tr("Export the corrected adapter of an earlier run?"), QMessageBox::Yes | QMessageBox::No,
                    this);
    box.setObjectName(QStringLiteral("staleExportDialog"));
    box.setInformativeText(
        tr("%1 Run the three stages to the end first to export an adapter of the current settings.")
            .arg(staleOutputsNote()));
    box.button(QMessageBox::Yes)->setText(tr("&Export Anyway"));
    box.button(QMessageBox::No)->setText(tr("&Cancel"));
    box.setDefaultButton(QMessageBox::No);
    return box.exec() == QMessageBox::Yes;
}

QString MainWindow::staleOutputsNote() const
{
    const QString run = currentProject().runFolder();
    if (run.isEmpty() || run != m_staleRunFolder)
        return {};
    return tr("The last run was stopped before it finished: the corrected adapter and the exports in %1 are "
              "from an earlier run and may not match the current settings.")
        .arg(QDir::toNativeSeparators(run));
}

void MainWindow::showPage(int index)
{
    if (index >= 0 && index < kPageCount)
        m_navigation->setCurrentRow(index);
}

int MainWindow::currentPageIndex() const
{
    return m_pages->currentIndex();
}

Page *MainWindow::page(int index) const
{
    return qobject_cast<Page *>(m_pages->widget(index));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_controller->isRunning()) {
        if (!m_closeAfterJob) {
            QMessageBox box(QMessageBox::Question, QString::fromLatin1(kProductName),
                            tr("%1 is still running.").arg(m_controller->currentJobName()),
                            QMessageBox::Yes | QMessageBox::No, this);
            box.setObjectName(QStringLiteral("confirmStopDialog"));
            box.setInformativeText(tr("Stop it and close EMLoC Studio? The job stops after its current step; "
                                      "what it has finished is kept."));
            box.button(QMessageBox::Yes)->setText(tr("&Stop and Close"));
            box.button(QMessageBox::No)->setText(tr("&Keep Running"));
            box.setDefaultButton(QMessageBox::No);
            if (box.exec() != QMessageBox::Yes) {
                event->ignore();
                return;
            }
            m_closeAfterJob = true;
            m_controller->cancel();
            statusBar()->showMessage(tr("Stopping: the window closes when the current step ends…"));
        }
        // The worker finishes the step it is in; onJobFinished() closes the window then.
        event->ignore();
        return;
    }
    if (!maybeSaveChanges()) {
        m_closeAfterJob = false;
        event->ignore();
        return;
    }
    saveSettings();
    event->accept();
}

void MainWindow::addRecentProject(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(kRecentKey).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecentProjects)
        recent.removeLast();
    settings.setValue(kRecentKey, recent);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentProjects();
    int number = 1;
    for (const QString &path : recent) {
        QAction *action =
            m_recentMenu->addAction(QStringLiteral("&%1  %2").arg(number++).arg(QFileInfo(path).fileName()));
        action->setToolTip(QDir::toNativeSeparators(path));
        action->setStatusTip(QDir::toNativeSeparators(path));
        connect(action, &QAction::triggered, this, [this, path] {
            if (!maybeSaveChanges())
                return;
            if (!QFileInfo::exists(path)) {
                QSettings settings;
                QStringList list = settings.value(kRecentKey).toStringList();
                list.removeAll(path);
                settings.setValue(kRecentKey, list);
                showError(this, tr("%1 no longer exists.").arg(QDir::toNativeSeparators(path)),
                          tr("It was moved or deleted; it is removed from the recent projects."));
                return;
            }
            openProject(path);
        });
    }
    if (recent.isEmpty()) {
        m_recentMenu->addAction(tr("No Recent Projects"))->setEnabled(false);
        return;
    }
    m_recentMenu->addSeparator();
    connect(m_recentMenu->addAction(tr("&Clear Menu")), &QAction::triggered, this,
            [] { QSettings().remove(kRecentKey); });
}

bool MainWindow::maybeSaveChanges()
{
    if (!isWindowModified())
        return true;
    QMessageBox box(QMessageBox::Warning, QString::fromLatin1(kProductName),
                    tr("The project has unsaved changes."),
                    QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("unsavedChangesDialog"));
    box.setInformativeText(tr("Save them before going on?"));
    box.setDefaultButton(QMessageBox::Save);
    switch (box.exec()) {
    case QMessageBox::Save:
        return saveProject();
    case QMessageBox::Discard:
        return true;
    default:
        return false;
    }
}

void MainWindow::markModified()
{
    if (m_loading)
        return;
    setWindowModified(true);
    updateAvailability();
    m_planTimer->start();
}

void MainWindow::setPlanProvider(PlanProvider provider)
{
    m_planProvider = std::move(provider);
    m_planTimer->start();
}

void MainWindow::updatePlanPreview()
{
    // Reads the model's config and safetensors headers only (kilobytes): fast enough for the GUI thread.
    const Project project = currentProject();
    if (m_planProvider)
        m_budgetPage->setPlanPreview(m_planProvider(project));
    m_resultsPage->chatPanel()->setProject(project);
    const bool visionLanguage = !m_modelPage->summary().visionTower.isEmpty();
    m_resultsPage->chatPanel()->setAcceptsImages(visionLanguage);
    m_exportPage->setVisionLanguage(visionLanguage);
    updateDatasetStats();
}

void MainWindow::setCatalogFitProvider(CatalogFitProvider provider)
{
    m_catalogProvider = std::move(provider);
    m_budgetPage->catalogButton()->setEnabled(static_cast<bool>(m_catalogProvider));
}

void MainWindow::showCatalogFits()
{
    if (!m_catalogProvider)
        return;
    // The memory the user means: the budget they typed, else the selected device's whole memory.
    // Several GPUs: each holds what one would, so the first one's memory answers.
    const QString id = m_budgetPage->selectedDevice().section(QLatin1Char(','), 0, 0);
    qint64 memory = m_budgetPage->budgetBytes();
    for (const core::DeviceInfo &device : m_budgetPage->devices())
        if (QString::fromStdString(device.id) == id && memory == 0)
            memory = device.totalBytes;
    auto *dialog = new CatalogFitDialog(currentProject(), m_catalogProvider, memory,
                                        id.startsWith(QStringLiteral("cuda")), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::setChatGenerator(ChatGenerator generator)
{
    m_resultsPage->chatPanel()->setGenerator(std::move(generator));
}

void MainWindow::setInspectors(ModelInspector model, DatasetInspector dataset)
{
    m_modelPage->setInspector(std::move(model));
    m_dataPage->setInspector(std::move(dataset));
    updateAvailability();
}

void MainWindow::setDatasetStatsProvider(DatasetStatsProvider provider)
{
    m_statsProvider = std::move(provider);
    m_statsKey.clear();
    m_planTimer->start();
}

void MainWindow::updateDatasetStats()
{
    if (!m_statsProvider)
        return;
    const Project project = currentProject();
    const QString key = project.modelPath + QLatin1Char('\n') + project.data.trainingPath +
                        QLatin1Char('\n') + QString::number(project.training.maxLength);
    if (key == m_statsKey)
        return;
    m_statsKey = key;
    const int generation = ++m_statsGeneration;
    // Tokenizing a large file takes seconds: never on the GUI thread. A newer request wins.
    m_statsThread = runInBackground(
        this, [provider = m_statsProvider, project] { return provider(project); },
        [this, generation](const DatasetStats &stats) {
            if (generation == m_statsGeneration)
                m_dataPage->setStats(stats);
        });
}

void MainWindow::updateTitle()
{
    const QString name =
        m_projectPath.isEmpty() ? tr("Untitled project") : QFileInfo(m_projectPath).completeBaseName();
    setWindowTitle(QStringLiteral("%1[*] — %2 %3")
                       .arg(name, QString::fromLatin1(kProductName), QString::fromLatin1(kVersion)));
}

void MainWindow::updateAvailability()
{
    const bool running = m_controller->isRunning();
    QString hint;
    if (!m_trainingFactory) {
        hint = tr("Training is not available in this build of EMLoC Studio.");
    } else {
        for (ProjectPage *projectPage :
             {static_cast<ProjectPage *>(m_modelPage), static_cast<ProjectPage *>(m_dataPage),
              static_cast<ProjectPage *>(m_budgetPage)}) {
            if (hint.isEmpty())
                hint = projectPage->problem();
        }
        if (!hint.isEmpty())
            hint = tr("Before starting: %1").arg(hint);
    }
    m_runPage->setStartAvailable(bool(m_trainingFactory), hint);
    m_startAction->setEnabled(bool(m_trainingFactory) && !running);
    m_pauseAction->setEnabled(running && !m_controller->isPaused());
    m_resumeAction->setEnabled(running && m_controller->isPaused());
    m_cancelAction->setEnabled(running);

    const QString stale = staleOutputsNote();
    m_resultsPage->chatPanel()->setStaleNote(stale);
    if (!m_exportFactory)
        m_exportPage->setExportAvailable(false, tr("Export is not available in this build of EMLoC Studio."));
    else if (!m_haveTrainedAdapter)
        m_exportPage->setExportAvailable(false,
                                         tr("Train first: there is no corrected adapter to export yet."));
    else if (running)
        m_exportPage->setExportAvailable(false, tr("Wait until the running job ends."));
    else if (!stale.isEmpty())
        m_exportPage->setExportAvailable(true, tr("Warning: %1").arg(stale));
    else
        m_exportPage->setExportAvailable(true, m_exportPage->problem());
}

void MainWindow::updateDeviceStatus()
{
    const QString id = m_budgetPage->selectedDevice();
    if (const QStringList gpus = jobProcesses(id); !gpus.isEmpty()) {
        m_deviceStatus->setText(tr("%1 GPUs: %2").arg(gpus.size()).arg(gpus.join(QStringLiteral(", "))));
        return;
    }
    for (const core::DeviceInfo &device : m_budgetPage->devices()) {
        if (QString::fromStdString(device.id) == id) {
            m_deviceStatus->setText(
                tr("%1: %2 free of %3")
                    .arg(id, formatBytes(device.freeBytes), formatBytes(device.totalBytes)));
            return;
        }
    }
    m_deviceStatus->setText(m_budgetPage->devices().empty() ? tr("Measuring devices…") : id);
}

void MainWindow::onJobStarted(const QString &name)
{
    statusBar()->clearMessage(); // the last job's "… was cancelled." is not about this one
    m_jobStatus->setText(tr("Running: %1").arg(name));
    updateAvailability();
}

void MainWindow::onJobFinished(const JobOutcome &outcome)
{
    const JobKind kind = m_jobKind;
    if (kind == JobKind::Training) {
        // A resumed training's steps before the resume are only in the training folder's metrics file.
        m_resultsPage->setRun(outcome, m_runPage->samples(),
                              readMetricsFile(runFile(m_jobRunFolder, &core::RunFolder::trainingMetrics)));
    } else if (kind != JobKind::Export) {
        m_resultsPage->setRun(outcome, m_runPage->samples());
    }
    if (kind == JobKind::Training && outcome.status == JobOutcome::Status::Succeeded) {
        m_haveTrainedAdapter = true;
        if (m_staleRunFolder == m_jobRunFolder)
            m_staleRunFolder.clear();
        showRunOutputs(currentProject());
    } else if (kind == JobKind::Training) {
        // The stages the run did not reach left an earlier run's adapter, evaluation and exports in place.
        if (QFileInfo::exists(runFile(m_jobRunFolder, &core::RunFolder::correctedAdapter)))
            m_staleRunFolder = m_jobRunFolder;
        m_resultsPage->setEvaluation(QJsonObject());
    }
    updateAvailability();

    switch (outcome.status) {
    case JobOutcome::Status::Succeeded:
        m_jobStatus->setText(tr("Idle"));
        statusBar()->showMessage(tr("%1 finished.").arg(outcome.jobName), 10000);
        break;
    case JobOutcome::Status::Cancelled:
        m_jobStatus->setText(tr("Idle"));
        statusBar()->showMessage(tr("%1 was cancelled.").arg(outcome.jobName));
        break;
    case JobOutcome::Status::Failed:
        m_jobStatus->setText(tr("Failed"));
        if (!m_closeAfterJob)
            showError(
                this, tr("%1 failed: %2").arg(outcome.jobName, outcome.message),
                tr("Fix what the message names and start again. The log on the Run page shows what led up "
                   "to it."));
        break;
    }
    if (m_closeAfterJob)
        QTimer::singleShot(0, this, &QWidget::close);
}

void MainWindow::chooseLanguage(const QString &code)
{
    QSettings().setValue(kLanguageKey, code);
    QMessageBox::information(this, QString::fromLatin1(kProductName),
                             tr("EMLoC Studio uses the new language the next time it starts."));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray()))
        resize(1200, 800);
    restoreState(settings.value(kStateKey).toByteArray());
    showPage(settings.value(kPageKey, 0).toInt());
}

void MainWindow::saveSettings()
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    settings.setValue(kPageKey, currentPageIndex());
}

} // namespace emloc::ui
