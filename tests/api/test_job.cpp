// The job interface both front ends use: results, cancellation, pause and exception mapping.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/util/engine_job.h"
#include "emloc/util/memory.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>

using namespace emloc::core;

namespace {
// Records what a job reported; thread-safe like a real front end must be.
class RecordingFeedback : public Feedback
{
public:
    void progress(const std::string &, int64_t done, int64_t) override { lastDone = done; }
    void log(LogLevel level, const std::string &message) override
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (level == LogLevel::Error)
            errors.push_back(message);
    }
    std::atomic<int64_t> lastDone{-1};
    std::mutex mutex;
    std::vector<std::string> errors;
};

// A job that runs `steps` steps of ~5 ms, reporting progress and honouring checkpoints.
void steppingJob(Feedback &feedback, int steps, std::atomic<int> &stepsRun)
{
    for (int step = 0; step < steps; ++step) {
        feedback.checkpoint();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ++stepsRun;
        feedback.progress("train", step + 1, steps);
    }
}
} // namespace

class TestJob : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void succeeds()
    {
        RecordingFeedback feedback;
        std::atomic<int> steps{0};
        JobResult result = runJob([&](Feedback &f) { steppingJob(f, 3, steps); }, feedback);
        QVERIFY(result.ok());
        QCOMPARE(steps.load(), 3);
        QCOMPARE(feedback.lastDone.load(), int64_t(3));
    }

    void cancelStopsARunningJobWithinOneStep()
    {
        RecordingFeedback feedback;
        std::atomic<int> steps{0};
        JobResult result;
        std::thread worker(
            [&] { result = runJob([&](Feedback &f) { steppingJob(f, 100000, steps); }, feedback); });
        while (steps.load() < 5)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        feedback.cancel();
        int atCancel = steps.load();
        worker.join();
        QCOMPARE(result.status, JobResult::Status::Cancelled);
        QVERIFY2(steps.load() <= atCancel + 1, "the job ran more than one step after cancel()");
    }

    void pauseHoldsTheJobAndResumeContinues()
    {
        RecordingFeedback feedback;
        std::atomic<int> steps{0};
        JobResult result;
        feedback.pause();
        std::thread worker(
            [&] { result = runJob([&](Feedback &f) { steppingJob(f, 10, steps); }, feedback); });
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        QCOMPARE(steps.load(), 0);
        feedback.resume();
        worker.join();
        QVERIFY(result.ok());
        QCOMPARE(steps.load(), 10);
    }

    void cancelWakesAPausedJob()
    {
        RecordingFeedback feedback;
        std::atomic<int> steps{0};
        JobResult result;
        feedback.pause();
        std::thread worker(
            [&] { result = runJob([&](Feedback &f) { steppingJob(f, 10, steps); }, feedback); });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        feedback.requestCancelFromSignal();
        worker.join();
        QCOMPARE(result.status, JobResult::Status::Cancelled);
        QCOMPARE(steps.load(), 0);
    }

    void exceptionsBecomeFailedResultsWithTheirMessage()
    {
        RecordingFeedback feedback;
        JobResult result =
            runJob([](Feedback &) { throw Error("model.safetensors: tensor 'x' is truncated"); }, feedback);
        QCOMPARE(result.status, JobResult::Status::Failed);
        QCOMPARE(QString::fromStdString(result.message),
                 QString("model.safetensors: tensor 'x' is truncated"));
        QCOMPARE(feedback.errors.size(), size_t(1));

        // An engine job's LibTorch error loses its C++ backtrace on the way to the user.
        result = runJob(engineJob([](Feedback &) {
                            torch::ones({2, 3}).matmul(torch::ones({2, 3}));
                        }),
                        feedback);
        QCOMPARE(result.status, JobResult::Status::Failed);
        QVERIFY2(QString::fromStdString(result.message).startsWith("Internal tensor error: "),
                 qPrintable(QString::fromStdString(result.message)));
        QVERIFY(!QString::fromStdString(result.message).contains('\n'));

        // Unwrapped (runJob knows no LibTorch), any library's message still reaches the user as its
        // first line only.
        result = runJob([](Feedback &) { throw std::runtime_error("shape mismatch\nframe #0: backtrace"); },
                        feedback);
        QCOMPARE(QString::fromStdString(result.message), QString("shape mismatch"));
    }

    void memoryReadingsArePlausible()
    {
        auto rss = processRss();
        QVERIFY(rss.currentBytes > 1 << 20);
        QVERIFY(rss.peakBytes >= rss.currentBytes);
        QCOMPARE(QString::fromStdString(formatBytes(1536 * 1024)), QString("1.5 MiB"));
    }
};

QTEST_GUILESS_MAIN(TestJob)
#include "test_job.moc"
