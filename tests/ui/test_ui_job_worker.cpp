// The threading architecture: jobs run on the worker thread, their samples reach the plots in
// batches from the GUI timer, the event loop keeps turning, Pause holds, Cancel ends a job within a
// step, and closing the window during a run cancels it cleanly.
#include "main_window.h"

#include "gui_test_support.h"
#include "jobs/job_clock.h"
#include "jobs/job_controller.h"
#include "jobs/job_feedback.h"
#include "pages/results_page.h"
#include "pages/run_page.h"
#include "synthetic_job.h"
#include "widgets/loss_plot.h"
#include "widgets/memory_plot.h"

#include "emloc/api/error.h"

#include <QElapsedTimer>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace emloc;
using namespace emloc::ui;
using namespace emloc::ui::testing;

namespace {
JobOutcome lastOutcome(const QSignalSpy &spy)
{
    return spy.last().at(0).value<JobOutcome>();
}
} // namespace

class TestJobWorker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { initializeGuiTest(); }

    void feedbackBuffersAndSwaps()
    {
        JobFeedback feedback;
        core::MetricSample sample;
        sample.stage = "train";
        for (int i = 0; i < 5; ++i) {
            sample.step = i;
            feedback.metric(sample);
        }
        feedback.progress("train", 1, 10);
        feedback.progress("train", 4, 10); // replaces the earlier report of the same stage
        for (std::size_t i = 0; i < JobFeedback::kMaxLogLinesPerBatch + 25; ++i)
            feedback.log(core::LogLevel::Info, "line");
        JobUpdates updates = feedback.takeUpdates();
        QCOMPARE(updates.metrics.size(), std::size_t(5));
        QCOMPARE(updates.metrics[4].step, int64_t(4));
        QCOMPARE(updates.progress.size(), std::size_t(1));
        QCOMPARE(updates.progress[0].done, qint64(4));
        QCOMPARE(updates.logs.size(), JobFeedback::kMaxLogLinesPerBatch);
        QCOMPARE(updates.droppedLogLines, qint64(25));
        QVERIFY(feedback.takeUpdates().isEmpty());
    }

    void samplesReachThePlotsInBatches()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        JobController *controller = window.jobController();
        QSignalSpy updates(controller, &JobController::updatesAvailable);
        QSignalSpy finished(controller, &JobController::finished);

        // The GUI thread must stay responsive: count the turns of a fast timer during the run.
        int turns = 0;
        QTimer heartbeat;
        heartbeat.setInterval(5);
        connect(&heartbeat, &QTimer::timeout, [&turns] { ++turns; });
        heartbeat.start();

        SyntheticJobOptions options;
        options.trainingSteps = 400;
        options.validateEvery = 25;
        options.stepTime = std::chrono::microseconds(1500);
        auto state = std::make_shared<SyntheticJobState>();
        QElapsedTimer clock;
        clock.start();
        QVERIFY(
            window.startJob(QStringLiteral("Synthetic"), syntheticTrainingJob(options, state), 6LL << 30));
        QVERIFY(!window.startJob(QStringLiteral("Second"), syntheticTrainingJob(options, state),
                                 0)); // one at a time
        QCOMPARE(window.currentPageIndex(), int(MainWindow::RunPageIndex));
        QVERIFY(finished.wait(60000));
        const qint64 elapsedMs = clock.elapsed();
        heartbeat.stop();

        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Succeeded);
        RunPage *run = window.runPage();
        const int samples = state->samplesSent;
        QCOMPARE(static_cast<int>(run->samples().size()), samples);
        QCOMPARE(run->lossPlot()->trainPointCount(), options.trainingSteps);
        QCOMPARE(run->lossPlot()->validationPointCount(), options.trainingSteps / options.validateEvery);
        QCOMPARE(run->memoryPlot()->pointCount(), samples);
        // Batches, not one signal per sample: far fewer deliveries than samples.
        const int batches = static_cast<int>(updates.count());
        qInfo("%d samples in %d batches (%d plot appends) over %lld ms; %d heartbeat turns", samples, batches,
              run->lossPlot()->appendedBatches(), static_cast<long long>(elapsedMs), turns);
        QVERIFY(batches >= 2);
        QVERIFY2(batches < samples / 4, qPrintable(QString::number(batches)));
        QCOMPARE(controller->deliveredBatches(), qint64(batches));
        QVERIFY(run->lossPlot()->appendedBatches() <= batches);
        // ~30 Hz: no more ticks than the run's duration allows (plus the final drain).
        QVERIFY(batches <= elapsedMs / (JobController::kDefaultUpdateIntervalMs / 2) + 2);
        QVERIFY2(turns >= 10, qPrintable(QString::number(turns)));

        QProgressBar *train = run->stageBar(RunPage::Stage::Train);
        QCOMPARE(train->maximum(), options.trainingSteps);
        QCOMPARE(train->value(), options.trainingSteps);
        QCOMPARE(run->stageBar(RunPage::Stage::Build)->value(),
                 run->stageBar(RunPage::Stage::Build)->maximum());
        QCOMPARE(run->stageBar(RunPage::Stage::Correct)->value(), options.layers);
        QCOMPARE(run->logView()->document()->blockCount(), static_cast<int>(state->logLinesSent));
        QVERIFY(run->logView()->toPlainText().contains(QStringLiteral("corrected adapter is ready")));
        QVERIFY(run->memoryPlot()->budgetLineVisible());
        QVERIFY(run->memoryPlot()->peakBytes() > 0);

        // The Results page summarises the same samples.
        QVERIFY(window.resultsPage()->hasResults());
        QCOMPARE(window.resultsPage()->summary().trainingSteps, qint64(options.trainingSteps));
        QVERIFY(window.resultsPage()->summary().bestValidationLoss > 0);
        QVERIFY(run->startButton()->isEnabled() == false); // no pipeline factory set
        QVERIFY(!run->cancelButton()->isEnabled());
    }

    void pauseHoldsAndCancelEndsWithinAStep()
    {
        MainWindow window;
        window.show();
        JobController *controller = window.jobController();
        RunPage *run = window.runPage();
        QSignalSpy finished(controller, &JobController::finished);
        SyntheticJobOptions options;
        options.trainingSteps = 1000000;
        options.stepTime = std::chrono::milliseconds(4);
        auto state = std::make_shared<SyntheticJobState>();
        QVERIFY(window.startJob(QStringLiteral("Long"), syntheticTrainingJob(options, state), 0));
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > 5, 20000);

        QVERIFY(run->pauseButton()->isEnabled());
        run->pauseButton()->click();
        QVERIFY(controller->isPaused());
        QVERIFY(!run->pauseButton()->isEnabled());
        QVERIFY(run->resumeButton()->isEnabled());
        QTest::qWait(150); // the step in progress completes, then the job holds at its checkpoint
        const int held = state->trainingStepsDone;
        QTest::qWait(500);
        QCOMPARE(static_cast<int>(state->trainingStepsDone), held);
        QVERIFY(run->stateText().contains(QStringLiteral("Paused")));

        run->resumeButton()->click();
        QVERIFY(!controller->isPaused());
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > held + 3, 20000);

        const int atCancel = state->trainingStepsDone;
        QElapsedTimer clock;
        clock.start();
        run->cancelButton()->click();
        QVERIFY(finished.wait(20000));
        qInfo("cancel took %lld ms", static_cast<long long>(clock.elapsed()));
        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Cancelled);
        QVERIFY(state->returned);
        // At most the step that was running when Cancel was pressed.
        QVERIFY2(state->trainingStepsDone <= atCancel + 1,
                 qPrintable(QStringLiteral("%1 > %2 + 1").arg(int(state->trainingStepsDone)).arg(atCancel)));
        QVERIFY(!controller->isRunning());
        QVERIFY(window.resultsPage()->hasResults());
    }

    // A job of several processes cannot pause (the other processes would time out waiting); it cancels.
    void aJobOfSeveralProcessesCancelsButDoesNotPause()
    {
        MainWindow window;
        window.show();
        RunPage *run = window.runPage();
        QSignalSpy finished(window.jobController(), &JobController::finished);
        SyntheticJobOptions options;
        options.trainingSteps = 1000000;
        auto state = std::make_shared<SyntheticJobState>();
        QVERIFY(window.startJob(QStringLiteral("Two GPUs"), syntheticTrainingJob(options, state), 0));
        run->setJobProcesses({QStringLiteral("cuda:0"), QStringLiteral("cuda:1")});
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > 2, 20000);
        QVERIFY(!run->pauseButton()->isEnabled());
        QVERIFY(run->pauseButton()->toolTip().contains(QStringLiteral("cannot pause")));
        QVERIFY(run->cancelButton()->isEnabled());
        run->cancelButton()->click();
        QVERIFY(finished.wait(20000));
        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Cancelled);
        // The next job is one process again until told otherwise.
        QVERIFY(window.startJob(QStringLiteral("One"), syntheticTrainingJob(options, state), 0));
        QTRY_VERIFY_WITH_TIMEOUT(run->pauseButton()->isEnabled(), 20000);
        run->cancelButton()->click();
        QVERIFY(finished.wait(20000));
    }

    void cancelWakesAPausedJob()
    {
        JobController controller;
        QSignalSpy finished(&controller, &JobController::finished);
        SyntheticJobOptions options;
        options.trainingSteps = 1000000;
        auto state = std::make_shared<SyntheticJobState>();
        QVERIFY(controller.start(QStringLiteral("Paused"), syntheticTrainingJob(options, state)));
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > 2, 20000);
        controller.pause();
        QTest::qWait(100);
        controller.cancel();
        QVERIFY(finished.wait(5000));
        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Cancelled);
        QVERIFY(!controller.isPaused());
    }

    void failedJobShowsTheMessage()
    {
        MainWindow window;
        window.show();
        QSignalSpy finished(window.jobController(), &JobController::finished);
        auto text = std::make_shared<QString>();
        auto seen = answerNextMessageBox(QStringLiteral("errorDialog"), QMessageBox::Ok, text);
        const auto job = [](core::Feedback &feedback) {
            feedback.log(core::LogLevel::Info, "loading");
            throw core::Error("Tensor model.layers.3.mlp.up_proj.weight has shape [8, 4], expected [16, 4]. "
                              "Re-download the model.");
        };
        QVERIFY(window.startJob(QStringLiteral("Broken"), job, 0));
        QVERIFY(finished.wait(10000));
        QTRY_VERIFY_WITH_TIMEOUT(*seen, 10000);
        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Failed);
        QVERIFY2(text->contains(QStringLiteral("up_proj.weight has shape [8, 4]")), qPrintable(*text));
        QVERIFY(window.runPage()->logView()->toPlainText().contains(QStringLiteral("error: Tensor")));
    }

    void closingDuringARunAsksThenCancels()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy finished(window.jobController(), &JobController::finished);
        SyntheticJobOptions options;
        options.trainingSteps = 1000000;
        options.stepTime = std::chrono::milliseconds(3);
        auto state = std::make_shared<SyntheticJobState>();
        QVERIFY(window.startJob(QStringLiteral("Long"), syntheticTrainingJob(options, state), 0));
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > 3, 20000);

        // "Keep Running": nothing changes.
        auto kept = answerNextMessageBox(QStringLiteral("confirmStopDialog"), QMessageBox::No);
        QVERIFY(!window.close());
        QVERIFY(*kept);
        QVERIFY(window.isVisible());
        QVERIFY(window.jobController()->isRunning());
        const int before = state->trainingStepsDone;
        QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > before, 20000);

        // "Stop and Close": the job is cancelled, the worker finishes, then the window closes.
        auto stopped = answerNextMessageBox(QStringLiteral("confirmStopDialog"), QMessageBox::Yes);
        QVERIFY(!window.close()); // not yet: the worker is finishing its step
        QVERIFY(*stopped);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 20000);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(lastOutcome(finished).status, JobOutcome::Status::Cancelled);
        QVERIFY(state->returned);
        QVERIFY(!window.jobController()->isRunning());
    }

    void destroyingTheControllerCancelsAndJoins()
    {
        auto state = std::make_shared<SyntheticJobState>();
        {
            JobController controller;
            SyntheticJobOptions options;
            options.trainingSteps = 1000000;
            QVERIFY(controller.start(QStringLiteral("Orphan"), syntheticTrainingJob(options, state)));
            QTRY_VERIFY_WITH_TIMEOUT(state->trainingStepsDone > 1, 20000);
        }
        QVERIFY(state->returned); // the destructor waited for the worker
    }

    // The engine's stages time their samples from their own start; the Run page puts them on one clock,
    // so the memory plot never draws training over the emulator's construction.
    void stagesShareTheJobClock()
    {
        JobClock clock;
        auto at = [&](const char *stage, double seconds) {
            core::MetricSample sample;
            sample.stage = stage;
            sample.elapsedSeconds = seconds;
            return clock.toJobClock(sample).elapsedSeconds;
        };
        QCOMPARE(at("build", 2.0), 2.0);
        QCOMPARE(at("build", 30.0), 30.0);
        QCOMPARE(at("train", 1.5), 31.5);    // training's clock starts where the job's stands
        QCOMPARE(at("validate", 3.0), 33.0); // validation runs on training's clock
        QCOMPARE(at("train", 10.0), 40.0);
        QCOMPARE(at("correct", 0.5), 40.5);
        QCOMPARE(at("evaluate", 55.0), 55.0); // a sample already on a job-wide clock stays
        clock.reset();
        QCOMPARE(at("train", 1.0), 1.0);
    }
};

QTEST_MAIN(TestJobWorker)
#include "test_ui_job_worker.moc"
