// The job interface both front ends use: results, cancellation, pause and exception mapping.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/util/engine_job.h"
#include "emloc/util/memory.h"

#include "unit_test.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

TEST_CASE(succeeds)
{
    RecordingFeedback feedback;
    std::atomic<int> steps{0};
    JobResult result = runJob([&](Feedback &f) { steppingJob(f, 3, steps); }, feedback);
    VERIFY(result.ok());
    COMPARE(steps.load(), 3);
    COMPARE(feedback.lastDone.load(), int64_t(3));
}

TEST_CASE(cancelStopsARunningJobWithinOneStep)
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
    COMPARE(result.status, JobResult::Status::Cancelled);
    VERIFY2(steps.load() <= atCancel + 1, "the job ran more than one step after cancel()");
}

TEST_CASE(pauseHoldsTheJobAndResumeContinues)
{
    RecordingFeedback feedback;
    std::atomic<int> steps{0};
    JobResult result;
    feedback.pause();
    std::thread worker([&] { result = runJob([&](Feedback &f) { steppingJob(f, 10, steps); }, feedback); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    COMPARE(steps.load(), 0);
    feedback.resume();
    worker.join();
    VERIFY(result.ok());
    COMPARE(steps.load(), 10);
}

TEST_CASE(cancelWakesAPausedJob)
{
    RecordingFeedback feedback;
    std::atomic<int> steps{0};
    JobResult result;
    feedback.pause();
    std::thread worker([&] { result = runJob([&](Feedback &f) { steppingJob(f, 10, steps); }, feedback); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    feedback.requestCancelFromSignal();
    worker.join();
    COMPARE(result.status, JobResult::Status::Cancelled);
    COMPARE(steps.load(), 0);
}

TEST_CASE(exceptionsBecomeFailedResultsWithTheirMessage)
{
    RecordingFeedback feedback;
    JobResult result =
        runJob([](Feedback &) { throw Error("model.safetensors: tensor 'x' is truncated"); }, feedback);
    COMPARE(result.status, JobResult::Status::Failed);
    COMPARE(result.message, std::string("model.safetensors: tensor 'x' is truncated"));
    COMPARE(feedback.errors.size(), size_t(1));

    // An engine job's LibTorch error loses its C++ backtrace on the way to the user.
    result = runJob(engineJob([](Feedback &) { torch::ones({2, 3}).matmul(torch::ones({2, 3})); }), feedback);
    COMPARE(result.status, JobResult::Status::Failed);
    VERIFY2(emloc::test::startsWith(result.message, "Internal tensor error: "), result.message);
    VERIFY(!emloc::test::contains(result.message, "\n"));

    // Unwrapped (runJob knows no LibTorch), any library's message still reaches the user as its
    // first line only.
    result =
        runJob([](Feedback &) { throw std::runtime_error("shape mismatch\nframe #0: backtrace"); }, feedback);
    COMPARE(result.message, std::string("shape mismatch"));
}

TEST_CASE(memoryReadingsArePlausible)
{
    auto rss = processRss();
    VERIFY(rss.currentBytes > 1 << 20);
    VERIFY(rss.peakBytes >= rss.currentBytes);
    COMPARE(formatBytes(1536 * 1024), std::string("1.5 MiB"));
}
