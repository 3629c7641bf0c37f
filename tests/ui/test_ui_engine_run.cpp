// EMLoC Studio driving the real engine on a small model, offscreen: the project is chosen, Run executes
// the three stages on the worker thread while the loss plot fills and the event loop keeps turning, the
// Results page shows the held-out comparison, Export writes verified files, and a second run can be
// cancelled.
#include "engine_inspect.h"
#include "engine_jobs.h"
#include "engine_run_record.h"
#include "gui_test_support.h"
#include "jobs/job_controller.h"
#include "main_window.h"
#include "pages/budget_page.h"
#include "pages/data_page.h"
#include "pages/export_page.h"
#include "pages/model_page.h"
#include "pages/results_page.h"
#include "pages/run_page.h"
#include "test_support.h"
#include "widgets/chat_panel.h"
#include "widgets/length_histogram.h"
#include "widgets/loss_plot.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/validation_label.h"

#include "emloc/io/peft_adapter.h"
#include "emloc/stages/pipeline.h"

#include <QCheckBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTreeWidget>

#include <cmath>

using namespace emloc;
using namespace emloc::ui;
using namespace emloc::ui::testing;

class TestUiEngineRun : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        initializeGuiTest();
        QVERIFY(m_dir.isValid());
        const QString data = test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        auto made =
            test::runPythonScript("stage1_make_model.py", {m_dir.filePath("model"), data, "2", "128", "256"});
        QVERIFY2(made.exitCode == 0, qPrintable(test::describe(made)));
    }

    void budgetPageShowsThePlannersTradeOff()
    {
        MainWindow window;
        window.setPlanProvider(&gui::PipelineJobs::plan);
        window.setProject(project(8));
        // memory(ratio) on the planner's grid, the chosen ratio marked.
        QTRY_COMPARE(window.budgetPage()->tradeOffPlot()->pointCount(), 20);
        QVERIFY(window.budgetPage()->tradeOffPlot()->ratioMarkerVisible());
        const PlanPreview &preview = window.budgetPage()->planPreview();
        QVERIFY(preview.error.isEmpty());
        QVERIFY(preview.curve.front().fineTuningBytes < preview.curve.back().fineTuningBytes);
        QVERIFY(preview.refinementBytes > preview.curve.front().correctionBytes); // refinement is on
        // Before any run, the step time is bounded by the CPU's measured matrix-product rate.
        QVERIFY(preview.stepSeconds > 0 && !preview.stepFromLastRun && preview.flopsPerSecond > 1e8);
        const QString summary = window.budgetPage()->findChild<QLabel *>("tradeOffSummary")->text();
        qInfo("%s", qPrintable(summary));
        QVERIFY(summary.contains("at least"));

        // A budget nothing fits: the page says so and says what to change.
        Project tight = project(8);
        tight.budget.mode = BudgetSettings::Mode::MemoryBudget;
        tight.budget.budgetGiB = 0.25;
        tight.training.maxLength = 8192;
        tight.training.batchSize = 64;
        window.setProject(tight);
        QTRY_VERIFY(!window.budgetPage()->planPreview().fits);
        QVERIFY(!window.budgetPage()->planPreview().advice.isEmpty());
        QCOMPARE(window.budgetPage()->fitMessage()->state(), ValidationLabel::State::Error);
        QVERIFY(!window.budgetPage()->problem().isEmpty()); // Run refuses to start
    }

    // The catalog through the engine: every model planned with the project's settings against the memory
    // asked, as `emloc plan --catalog all` plans it.
    void whatFitsPlansTheCatalog()
    {
        Project project;
        CatalogQuery query;
        query.memoryBytes = 24LL << 30;
        query.cuda = true;
        query.sequenceLength = 512;
        const CatalogFits fits = gui::PipelineJobs::catalogFits(project, query);
        QVERIFY2(fits.error.isEmpty(), qPrintable(fits.error));
        QVERIFY(fits.models.size() >= 10);
        const auto find = [&fits](const QString &name) {
            for (const CatalogFit &fit : fits.models)
                if (fit.name == name)
                    return fit;
            return CatalogFit{};
        };
        // On a 24 GB card an 8B model fine-tunes whole; a 14B one neither runs nor fine-tunes, but EMLoC
        // fits it at a ratio with its quality caveat.
        const CatalogFit llama = find(QStringLiteral("llama-3.1-8b"));
        QVERIFY(llama.parameters > 7'000'000'000);
        QVERIFY(llama.inferenceFits && llama.fullLoraFits && llama.fullLoraBytes <= query.memoryBytes);
        const CatalogFit qwen = find(QStringLiteral("qwen2.5-14b"));
        QVERIFY(!qwen.inferenceFits && qwen.inferenceBytes > query.memoryBytes);
        QVERIFY(!qwen.fullLoraFits && qwen.fullLoraBytes > qwen.inferenceBytes);
        QVERIFY(qwen.emlocFits && qwen.emlocPeakBytes <= query.memoryBytes);
        QVERIFY(qwen.emlocRatio > 0.05 && qwen.emlocRatio < 1);
        QVERIFY(!qwen.caveat.isEmpty());
        // Longer sequences and 32-bit values only cost more.
        query.sequenceLength = 4096;
        query.valueBytes = 4;
        const CatalogFits longer = gui::PipelineJobs::catalogFits(project, query);
        for (size_t i = 0; i < fits.models.size(); ++i) {
            QCOMPARE(longer.models[i].name, fits.models[i].name);
            QVERIFY(longer.models[i].inferenceBytes > fits.models[i].inferenceBytes);
        }
    }

    void dataPageShowsWhatTrainingSees()
    {
        MainWindow window;
        window.setDatasetStatsProvider(&gui::PipelineJobs::datasetStats);
        window.setProject(project(8));
        // Computed on a worker thread; the page fills in when it arrives.
        QTRY_VERIFY_WITH_TIMEOUT(window.dataPage()->stats().used > 0, 60000);
        const DatasetStats &stats = window.dataPage()->stats();
        QVERIFY2(stats.error.isEmpty(), qPrintable(stats.error));
        QCOMPARE(stats.records, qint64(320));
        QVERIFY(stats.maskedFraction > 0.3 && stats.maskedFraction < 1.0); // the prompts are masked
        QVERIFY(window.dataPage()->lengthHistogram()->barCount() > 0);
        QVERIFY(window.dataPage()->renderedExample()->toPlainText().contains("name="));

        Project missing = project(8);
        missing.data.trainingPath = m_dir.filePath("nowhere.jsonl");
        window.setProject(missing);
        QTRY_VERIFY_WITH_TIMEOUT(!window.dataPage()->stats().error.isEmpty(), 60000);
        QVERIFY(window.dataPage()->stats().error.contains("nowhere.jsonl"));
    }

    void runShowsResultsAndExports()
    {
        MainWindow window;
        window.setTrainingJobFactory(&gui::PipelineJobs::training);
        window.setExportJobFactory(&gui::PipelineJobs::exporting);
        window.setRunRecordReader(&gui::readRunRecord);
        window.setProject(project(8));
        window.show();

        QSignalSpy finished(window.jobController(), &JobController::finished);
        window.startTraining();
        QVERIFY(window.jobController()->isRunning());
        // The GUI thread stays responsive: timers fire while the engine works.
        int ticks = 0;
        QTimer timer;
        QObject::connect(&timer, &QTimer::timeout, [&ticks] { ++ticks; });
        timer.start(50);
        QVERIFY(finished.wait(600000));
        const JobOutcome outcome = finished.last().at(0).value<JobOutcome>();
        QVERIFY2(outcome.status == JobOutcome::Status::Succeeded, qPrintable(outcome.message));
        QVERIFY2(ticks > 20, qPrintable(QString("only %1 timer ticks during the run").arg(ticks)));

        QVERIFY(window.runPage()->lossPlot()->trainPointCount() >= 8);
        // The stage table lists the three stages and refinement, on by default (validation belongs to
        // fine-tuning), each with its peak.
        QStringList stages;
        for (const RunSummary::StageSummary &stage : window.resultsPage()->summary().stages) {
            stages << stage.stage;
            QVERIFY2(stage.peakBytes > 0, qPrintable(stage.stage));
        }
        QCOMPARE(stages, (QStringList{"build", "train", "correct", "refine"}));
        QTreeWidget *evaluation = window.resultsPage()->evaluationTable();
        QCOMPARE(evaluation->topLevelItemCount(), 4);
        QVERIFY(evaluation->topLevelItem(3)->text(0).contains("corrected"));
        QVERIFY(QFile::exists(m_dir.filePath("run/summary.json")));
        // Then the stage table is the engine's record of the run: every stage of the pipeline, with the
        // planner's peak beside the measured one for the three stages and refinement.
        const auto recorded = core::readPipelineSummary(m_dir.filePath("run").toStdString());
        QVERIFY(recorded);
        QTreeWidget *stageTable = window.resultsPage()->stageTable();
        QCOMPARE(stageTable->topLevelItemCount(), int(recorded->stages.size()));
        for (int row = 0; row < stageTable->topLevelItemCount(); ++row) {
            const core::StageReport &stage = recorded->stages[size_t(row)];
            QCOMPARE(stageTable->topLevelItem(row)->text(3) != QStringLiteral("–"),
                     core::methodStage(stage.stage) > 0);
        }
        QVERIFY(!window.resultsPage()->showsRecord()); // the watched run's cards stay
        // The plan now scales the step time from this run's measured steps.
        const PlanPreview after = gui::PipelineJobs::plan(window.currentProject());
        QFile trainingSummary(m_dir.filePath("run/train/training_summary.json"));
        QVERIFY(trainingSummary.open(QIODevice::ReadOnly));
        const double measured =
            QJsonDocument::fromJson(trainingSummary.readAll()).object().value("seconds_per_step").toDouble();
        QVERIFY(after.stepFromLastRun && measured > 0);
        // The same settings: the measured step itself.
        QVERIFY2(std::abs(after.stepSeconds / measured - 1) < 1e-6,
                 qPrintable(QString("%1 s estimated, %2 s measured").arg(after.stepSeconds).arg(measured)));

        window.startExport();
        QVERIFY(finished.wait(120000));
        const JobOutcome exported = finished.last().at(0).value<JobOutcome>();
        QVERIFY2(exported.status == JobOutcome::Status::Succeeded, qPrintable(exported.message));
        QVERIFY(QFile::exists(m_dir.filePath("run/export/peft-adapter/adapter_model.safetensors")));
        QVERIFY(QFile::exists(m_dir.filePath("run/export/adapter.gguf")));
        // The export is the adapter the run evaluated: the refined one, not the corrected one.
        const auto refined = core::readPeftAdapter(m_dir.filePath("run/refined-adapter").toStdString());
        const auto shipped = core::readPeftAdapter(m_dir.filePath("run/export/peft-adapter").toStdString());
        const auto corrected = core::readPeftAdapter(m_dir.filePath("run/corrected-adapter").toStdString());
        QVERIFY(torch::equal(shipped.modules.back().b, refined.modules.back().b));
        QVERIFY(!torch::equal(shipped.modules.back().b, corrected.modules.back().b));

        // Opened again in a new session (as after scripts/demo.sh): the folder's run is on the Results page
        // (cards, stages, held-out table) and its training on the Run page's loss plot.
        {
            MainWindow reopened;
            reopened.setRunRecordReader(&gui::readRunRecord);
            reopened.setProject(window.currentProject());
            QVERIFY(reopened.resultsPage()->showsRecord());
            QCOMPARE(reopened.resultsPage()->stageTable()->topLevelItemCount(), int(recorded->stages.size()));
            QCOMPARE(reopened.resultsPage()->evaluationTable()->topLevelItemCount(), 4);
            const RunSummary &watched = window.resultsPage()->summary();
            const RunSummary &read = reopened.resultsPage()->summary();
            QCOMPARE(read.trainingSteps, watched.trainingSteps);
            QCOMPARE(read.firstTrainingLoss, watched.firstTrainingLoss);
            QCOMPARE(read.finalTrainingLoss, watched.finalTrainingLoss);
            QVERIFY(reopened.runPage()->showsRecord());
            QCOMPARE(reopened.runPage()->lossPlot()->trainPointCount(), int(watched.trainingSteps));
            // Another project's folder holds no run: nothing of this one stays on screen.
            Project other = window.currentProject();
            other.exportSettings.outputFolder = m_dir.filePath("no-run-here");
            reopened.setProject(other);
            QVERIFY(!reopened.resultsPage()->hasResults());
            QCOMPARE(reopened.runPage()->lossPlot()->trainPointCount(), 0);
        }

        // Try it: both models answer, streamed into the page.
        window.setChatGenerator(&gui::PipelineJobs::chat);
        ChatPanel *chat = window.resultsPage()->chatPanel();
        chat->setProject(window.currentProject());
        QSignalSpy answered(chat, &ChatPanel::finished);
        chat->ask(
            "Convert the booking request into a reservation record. Table for 2 at 7 pm on Friday, Ann.");
        QVERIFY(chat->isBusy());
        QVERIFY(answered.wait(120000));
        QVERIFY(!chat->originalAnswer()->toPlainText().isEmpty());
        QVERIFY(!chat->correctedAnswer()->toPlainText().isEmpty());
        QVERIFY(!chat->correctedAnswer()->toPlainText().startsWith("\n["));
    }

    // A vision-language model from the Studio (the random-weight InternVL fixture, an image dataset
    // shipped for the tests): the Model page accepts it, the Budget page plans its tower and offers to
    // compress it (chosen here, as the paper's configuration), the Data page shows the records' thumbnails
    // and their image tokens, Run runs the stages on the images, Results
    // compares the four models, Export writes the adapter peft loads and the merged model, and the chat
    // answers with an image.
    void visionLanguageRunFromTheStudio()
    {
        const auto made = test::runPythonScript("internvl_make_fixtures.py", {m_dir.filePath("internvl")});
        QVERIFY2(made.exitCode == 0, qPrintable(test::describe(made)));
        const QString images = test::testDataDir() + "/datasets/vision/";
        Project p = project(8, QStringLiteral("vision-run"));
        p.modelPath = m_dir.filePath("internvl/qwen2_hf");
        p.data.trainingPath = images + "shapes.jsonl";
        p.data.validationPath.clear();
        p.data.validationFraction = 0.25;
        p.training.maxLength = 256;
        p.exportSettings.ggufAdapter = false;
        p.exportSettings.mergedModel = true;
        p.exportSettings.visionProjector = true;

        MainWindow window;
        window.setInspectors(&gui::EngineInspection::model, &gui::EngineInspection::dataset);
        window.setPlanProvider(&gui::PipelineJobs::plan);
        window.setDatasetStatsProvider(&gui::PipelineJobs::datasetStats);
        window.setTrainingJobFactory(&gui::PipelineJobs::training);
        window.setExportJobFactory(&gui::PipelineJobs::exporting);
        window.setRunRecordReader(&gui::readRunRecord);
        window.setChatGenerator(&gui::PipelineJobs::chat);
        window.setProject(p);
        window.show();
        QVERIFY2(window.modelPage()->problem().isEmpty(), qPrintable(window.modelPage()->problem()));
        QTRY_COMPARE(window.budgetPage()->tradeOffPlot()->pointCount(), 20);
        QVERIFY(window.budgetPage()->planPreview().error.isEmpty());
        auto *compressTower =
            window.budgetPage()->findChild<QCheckBox *>(QStringLiteral("compressVisionTower"));
        QTRY_VERIFY(compressTower->isEnabled());
        compressTower->setChecked(true);
        QCOMPARE(window.budgetPage()->findChild<QDoubleSpinBox *>(QStringLiteral("visionRatio"))->value(),
                 0.4);
        QTRY_VERIFY_WITH_TIMEOUT(window.dataPage()->stats().used > 0, 60000);
        QCOMPARE(window.dataPage()->stats().used, qint64(16)); // none skipped for its images
        QVERIFY2(window.dataPage()->renderedExample()->toPlainText().contains("<IMG_CONTEXT> x "),
                 qPrintable(window.dataPage()->renderedExample()->toPlainText()));
        QVERIFY(!window.dataPage()->summary().preview.at(0).images.at(0).thumbnail.isNull());
        // The projector is offered for a vision-language model (and kept chosen).
        auto *projector =
            window.exportPage()->findChild<QCheckBox *>(QStringLiteral("visionProjectorFormat"));
        QTRY_VERIFY(projector->isEnabled());
        QVERIFY(projector->isChecked());

        QSignalSpy finished(window.jobController(), &JobController::finished);
        window.startTraining();
        QVERIFY(finished.wait(600000));
        const JobOutcome outcome = finished.last().at(0).value<JobOutcome>();
        QVERIFY2(outcome.status == JobOutcome::Status::Succeeded, qPrintable(outcome.message));
        QStringList stages;
        for (const RunSummary::StageSummary &stage : window.resultsPage()->summary().stages)
            stages << stage.stage;
        QCOMPARE(stages, (QStringList{"build", "train", "correct", "refine"}));
        QCOMPARE(window.resultsPage()->evaluationTable()->topLevelItemCount(), 4);
        // The emulator holds the compressed tower's factors, which stage 2 trained through.
        const QString emulator = m_dir.filePath("vision-run/emulator/");
        QVERIFY(QFile::exists(emulator + "vision_tower.safetensors"));
        QFile manifest(emulator + "emulator.json");
        QVERIFY(manifest.open(QIODevice::ReadOnly));
        const QJsonObject tower =
            QJsonDocument::fromJson(manifest.readAll()).object().value("vision_tower").toObject();
        QCOMPARE(tower.value("ratio").toDouble(), 0.4);

        window.startExport();
        QVERIFY(finished.wait(120000));
        const JobOutcome exported = finished.last().at(0).value<JobOutcome>();
        QVERIFY2(exported.status == JobOutcome::Status::Succeeded, qPrintable(exported.message));
        const QString run = m_dir.filePath("vision-run/export/");
        QVERIFY(QFile::exists(run + "peft-adapter/adapter_config.json"));
        QVERIFY(QFile::exists(run + "merged-model/preprocessor_config.json"));
        QVERIFY(QFile::exists(run + "mmproj.gguf"));

        ChatPanel *chat = window.resultsPage()->chatPanel();
        QTRY_VERIFY(chat->findChild<QWidget *>(QStringLiteral("chatChooseImage"))->isVisibleTo(chat));
        chat->setImage(images + "images/red_square.png");
        QSignalSpy answered(chat, &ChatPanel::finished);
        chat->ask("What shape is shown?");
        QVERIFY(answered.wait(120000));
        for (QPlainTextEdit *answer : {chat->originalAnswer(), chat->correctedAnswer()})
            QVERIFY2(!answer->toPlainText().isEmpty() && !answer->toPlainText().contains("\n["),
                     qPrintable(answer->toPlainText()));
    }

    void cancelStopsTheRun()
    {
        MainWindow window;
        window.setTrainingJobFactory(&gui::PipelineJobs::training);
        window.setProject(project(400, "run-cancelled"));
        QSignalSpy finished(window.jobController(), &JobController::finished);
        window.startTraining();
        // Cancel once training is under way (the first loss point arrives).
        QTRY_VERIFY_WITH_TIMEOUT(window.runPage()->lossPlot()->trainPointCount() > 0, 300000);
        QElapsedTimer clock;
        clock.start();
        window.jobController()->cancel();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.last().at(0).value<JobOutcome>().status, JobOutcome::Status::Cancelled);
        qInfo("cancelled within %lld ms", static_cast<long long>(clock.elapsed()));
        // The checkpoint of the cancelled training is there for a resume.
        QVERIFY(QDir(m_dir.filePath("run-cancelled/train/checkpoint")).exists());
    }

private:
    Project project(int steps, const QString &runFolder = QStringLiteral("run"))
    {
        const QString demo = test::sourceDir() + "/resources/demo/";
        Project p;
        p.modelPath = m_dir.filePath("model");
        p.data.trainingPath = demo + "bookings-train.jsonl";
        p.data.validationPath = demo + "bookings-test.jsonl";
        p.budget.device = QStringLiteral("cpu");
        p.budget.ratio = 0.5;
        p.budget.calibrationSamples = 16;
        p.training.steps = steps;
        p.training.batchSize = 2;
        p.training.gradientAccumulation = 1;
        p.training.learningRate = 3e-3;
        p.training.maxLength = 128;
        p.exportSettings.outputFolder = m_dir.filePath(runFolder);
        p.exportSettings.peftAdapter = true;
        p.exportSettings.ggufAdapter = true;
        return p;
    }

    QTemporaryDir m_dir;
};

QTEST_MAIN(TestUiEngineRun)
#include "test_ui_engine_run.moc"
