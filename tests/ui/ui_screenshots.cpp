// Renders every page of EMLoC Studio to <output>/<page>.png on the demo: the converted demo model, the
// bookings dataset and the engine throughout. The Budget page shows the planner and the retained energy of
// the last `scripts/demo.sh` run (runs/demo); the Run page a short real run of the pipeline on the demo
// (24 steps), paused while it builds the emulator (run-stage1.png) and in training (run.png); the Results
// page that run when it has finished, with the held-out table of the last full demo run
// (runs/demo/summary.json). Run it under Xvfb:
//   xvfb-run -s "-screen 0 1400x900x24" emloc_ui_screenshots docs/screenshots [--lang zh_TW]
// With --internvl FOLDER (an InternVL model, e.g. tests/reference/internvl_make_fixtures.py's qwen2_hf) it
// renders the vision-language pages instead: the Data page with the shipped image dataset's thumbnails
// (data-images.png) and, after a short run, the chat answering about an image (chat-image.png).
#include "about_dialog.h"
#include "application_setup.h"
#include "emloc/util/torch_runtime.h"
#include "engine_inspect.h"
#include "engine_jobs.h"
#include "engine_project.h"
#include "engine_run_record.h"
#include "jobs/job_controller.h"
#include "main_window.h"
#include "pages/budget_page.h"
#include "pages/data_page.h"
#include "pages/results_page.h"
#include "pages/run_page.h"
#include "test_support.h"
#include "widgets/catalog_fit_dialog.h"
#include "widgets/chat_panel.h"

#include <QApplication>
#include <QDir>
#include <QJsonObject>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <algorithm>
#include <cstdio>

using namespace emloc::ui;

namespace {

bool save(QWidget *window, const QString &folder, const QString &name)
{
    QApplication::processEvents();
    QTest::qWait(150); // queued replots and layouts settle
    const QString path = QDir(folder).filePath(name + QStringLiteral(".png"));
    const bool ok = window->grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "FAILED", qPrintable(path));
    return ok;
}

// The vision-language screenshots: a short real run on an InternVL model and the shipped image dataset.
bool visionScreenshots(const QString &model, const QString &output, QTemporaryDir &work)
{
    const QString images = emloc::test::testDataDir() + QStringLiteral("/datasets/vision/");
    Project project;
    project.modelPath = model;
    project.data.trainingPath = images + QStringLiteral("shapes.jsonl");
    project.data.validationFraction = 0.25;
    project.budget.device = QStringLiteral("cpu");
    project.budget.calibrationSamples = 8;
    project.budget.visionRatio = 0.4; // the paper's configuration: the tower compressed too
    project.training.maxLength = 256;
    project.training.steps = 20;
    project.training.batchSize = 2;
    project.training.gradientAccumulation = 1;
    project.training.learningRate = 1e-2;
    project.exportSettings.outputFolder = work.filePath(QStringLiteral("shapes-lora"));

    MainWindow window;
    window.setPlanProvider(&emloc::gui::PipelineJobs::plan);
    window.setDatasetStatsProvider(&emloc::gui::PipelineJobs::datasetStats);
    window.setInspectors(&emloc::gui::EngineInspection::model, &emloc::gui::EngineInspection::dataset);
    window.setTrainingJobFactory(&emloc::gui::PipelineJobs::training);
    window.setExportJobFactory(&emloc::gui::PipelineJobs::exporting); // as the application has it
    window.setRunRecordReader(&emloc::gui::readRunRecord);
    window.setChatGenerator(&emloc::gui::PipelineJobs::chat);
    window.setProject(project, work.filePath(QStringLiteral("shapes.emloc")));
    window.resize(1200, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        std::fprintf(stderr, "the window was not exposed; the screenshots may be empty\n");
    QTest::qWait(1500);
    window.showPage(1);
    // The first records with their thumbnails, at the bottom of the page.
    if (auto *scroll = window.dataPage()->findChild<QScrollArea *>()) {
        scroll->verticalScrollBar()->setValue(scroll->verticalScrollBar()->maximum());
        QTest::qWait(200);
    }
    bool ok = save(&window, output, QStringLiteral("data-images"));
    window.showPage(2); // the Budget page with the tower's compression chosen
    QTest::qWait(1000);
    if (auto *scroll = window.budgetPage()->findChild<QScrollArea *>())
        scroll->ensureWidgetVisible(window.budgetPage()->findChild<QWidget *>(QStringLiteral("visionRatio")),
                                    50, 120);
    QTest::qWait(200);
    ok = save(&window, output, QStringLiteral("budget-vision")) && ok;
    window.startTraining();
    while (window.jobController()->isRunning())
        QTest::qWait(50);
    window.showPage(4);
    ChatPanel *chat = window.resultsPage()->chatPanel();
    chat->setImage(images + QStringLiteral("images/red_square.png"));
    chat->promptEdit()->setText(QStringLiteral("What shape is shown?"));
    chat->ask(chat->promptEdit()->text());
    while (chat->isBusy())
        QTest::qWait(50);
    if (auto *scroll = window.resultsPage()->findChild<QScrollArea *>()) {
        scroll->verticalScrollBar()->setValue(scroll->verticalScrollBar()->maximum());
        QTest::qWait(200);
    }
    ok = save(&window, output, QStringLiteral("chat-image")) && ok;
    window.setWindowModified(false);
    return ok;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // a clean settings store, not the user's
    initializeApplication(app);
    QSettings().clear();
    const QStringList args = QApplication::arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: emloc_ui_screenshots <output folder> [--lang en|zh_TW]\n");
        return 2;
    }
    const QString output = args.at(1);
    QDir().mkpath(output);
    const int langIndex = static_cast<int>(args.indexOf(QStringLiteral("--lang")));
    installTranslations(app, langIndex > 0 && langIndex + 1 < args.size() ? args.at(langIndex + 1)
                                                                          : QStringLiteral("en"));
    applyStyle(app);

    QTemporaryDir work;
    const int internVLIndex = static_cast<int>(args.indexOf(QStringLiteral("--internvl")));
    if (internVLIndex > 0 && internVLIndex + 1 < args.size())
        return visionScreenshots(args.at(internVLIndex + 1), output, work) ? 0 : 1;
    const QString root = emloc::test::sourceDir();
    Project project;
    project.modelPath = root + QStringLiteral("/.cache/models/SmolLM2-135M-Instruct");
    project.data.trainingPath = root + QStringLiteral("/resources/demo/bookings-train.jsonl");
    project.data.validationFraction = 0.1;
    project.budget.device = QStringLiteral("cpu");
    project.budget.mode = BudgetSettings::Mode::MemoryBudget;
    project.budget.budgetGiB = 1.25; // above refinement's planned peak: the run refines, as by default
    project.budget.calibrationSamples = 32;
    project.training.maxLength = 160;
    project.training.steps = 24;
    project.training.batchSize = 2;
    project.training.gradientAccumulation = 1;
    project.training.learningRate = 1e-3;
    project.training.evaluationInterval = 6;
    project.exportSettings.outputFolder = root + QStringLiteral("/runs/demo"); // read only: its emulator.json
    // A setting no page has a field for, in the run configuration's own form.
    project.advanced = QJsonObject{{"evaluate", QJsonObject{{"max_new_tokens", 32}}}};

    MainWindow window;
    window.setPlanProvider(&emloc::gui::PipelineJobs::plan);
    window.setDatasetStatsProvider(&emloc::gui::PipelineJobs::datasetStats);
    window.setCatalogFitProvider(&emloc::gui::PipelineJobs::catalogFits);
    window.setInspectors(&emloc::gui::EngineInspection::model, &emloc::gui::EngineInspection::dataset);
    window.setTrainingJobFactory(&emloc::gui::PipelineJobs::training);
    window.setExportJobFactory(&emloc::gui::PipelineJobs::exporting); // as the application has it
    window.setRunRecordReader(&emloc::gui::readRunRecord);
    window.setProject(project, work.filePath(QStringLiteral("bookings.emloc")));
    window.resize(1200, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        std::fprintf(stderr, "the window was not exposed; the screenshots may be empty\n");
    QTest::qWait(1500); // the device list and the data statistics arrive from their threads

    bool ok = true;
    const QStringList names{"model", "data", "budget", "run", "results", "export"};
    for (int i : {0, 1, 2}) {
        window.showPage(i);
        ok = save(&window, output, names[i]) && ok;
    }
    // The bottom of the Budget page: sequences, and the advanced settings in the configuration's form.
    if (auto *scroll = window.budgetPage()->findChild<QScrollArea *>()) {
        scroll->verticalScrollBar()->setValue(scroll->verticalScrollBar()->maximum());
        QTest::qWait(200);
        ok = save(&window, output, QStringLiteral("budget-advanced")) && ok;
        scroll->verticalScrollBar()->setValue(0);
    }
    // "What fits…" for a 24 GB GPU: the catalog before any download.
    {
        CatalogFitDialog fits(project, &emloc::gui::PipelineJobs::catalogFits, 24LL << 30, true, &window);
        fits.show();
        if (!QTest::qWaitForWindowExposed(&fits))
            std::fprintf(stderr, "the What fits dialog was not exposed\n");
        ok = save(&fits, output, QStringLiteral("what-fits")) && ok;
    }
    // The Budget page of a machine with two GPUs, both picked (described: no GPU is needed to show it).
    {
        BudgetPage *budget = window.budgetPage();
        const std::vector<emloc::core::DeviceInfo> measured = budget->devices();
        std::vector<emloc::core::DeviceInfo> twoGpus{measured.front()};
        twoGpus.push_back({"cuda:0", "NVIDIA GeForce RTX 4090", 24LL << 30, 23LL << 30});
        twoGpus.push_back({"cuda:1", "NVIDIA GeForce RTX 4090", 24LL << 30, 21LL << 30});
        budget->setDevices(twoGpus);
        budget->deviceTree()->topLevelItem(1)->setSelected(true);
        budget->deviceTree()->topLevelItem(2)->setSelected(true);
        QTest::qWait(1500); // the plan for two GPUs
        ok = save(&window, output, QStringLiteral("budget-gpus")) && ok;
        budget->setDevices(measured);
        budget->deviceTree()->setCurrentItem(budget->deviceTree()->topLevelItem(0));
        QTest::qWait(1500);
    }

    // The short real run writes into a scratch folder, not into the demo's.
    project.exportSettings.outputFolder = work.filePath(QStringLiteral("bookings-lora"));
    window.setProject(project, work.filePath(QStringLiteral("bookings.emloc")));
    window.startTraining();
    // Stage 1 a third of the way through its layers ("10 / 30 layers" on the Progress card).
    auto layersBuilt = [&] {
        const QString text = window.runPage()->stepText();
        return text.contains(QStringLiteral("layers")) ? text.section(QLatin1Char(' '), 0, 0).toInt() : 0;
    };
    while (layersBuilt() < 10 && window.jobController()->isRunning())
        QTest::qWait(50);
    window.jobController()->pause();
    QTest::qWait(500);
    ok = save(&window, output, QStringLiteral("run-stage1")) && ok;
    window.jobController()->resume();
    auto trainingStep = [&] {
        int64_t step = 0;
        for (const auto &sample : window.runPage()->samples())
            if (sample.stage == "train")
                step = std::max(step, sample.step);
        return step;
    };
    while (trainingStep() < 14 && window.jobController()->isRunning())
        QTest::qWait(50);
    window.jobController()->pause();
    QTest::qWait(500);
    ok = save(&window, output, names[3]) && ok;
    window.jobController()->resume();
    while (window.jobController()->isRunning())
        QTest::qWait(50);
    // The held-out table of the demo's own run (scripts/demo.sh), read as the Studio reads a run folder.
    window.resultsPage()->setEvaluation(
        emloc::gui::readRunRecord(root + QStringLiteral("/runs/demo")).summary);
    for (int i : {4, 5}) {
        window.showPage(i);
        ok = save(&window, output, names[i]) && ok;
    }

    // The Studio opened after scripts/demo.sh: the demo's recorded run on the Results page.
    if (const auto demo = emloc::gui::demoProject(root)) {
        MainWindow opened;
        opened.setRunRecordReader(&emloc::gui::readRunRecord);
        opened.setProject(*demo);
        opened.resize(1200, 800);
        opened.show();
        if (!QTest::qWaitForWindowExposed(&opened))
            std::fprintf(stderr, "the reopened window was not exposed\n");
        opened.showPage(4);
        QTest::qWait(300);
        ok = save(&opened, output, QStringLiteral("results-opened")) && ok;
        opened.setWindowModified(false);
    }

    AboutDialog about(emloc::core::buildInfo(), &window);
    about.show();
    if (!QTest::qWaitForWindowExposed(&about))
        std::fprintf(stderr, "the About dialog was not exposed\n");
    ok = save(&about, output, QStringLiteral("about")) && ok;
    window.setWindowModified(false);
    return ok ? 0 : 1;
}
