#pragma once

#include "emloc/api/stages.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace emloc::core {

enum class LogLevel { Debug, Info, Warning, Error };

// One measurement taken by a running job, typically once per optimizer step. Fields a stage does not
// measure stay negative (NaN for doubles would break JSON).
struct MetricSample
{
    std::string stage; // "calibrate", "build", "train", "validate", "correct", "evaluate"
    int64_t step = 0;
    int64_t totalSteps = 0;
    double elapsedSeconds = 0;
    double loss = -1;
    double validationLoss = -1; // set on validation samples only
    double learningRate = -1;
    double gradNorm = -1;
    double tokensPerSecond = -1;
    double etaSeconds = -1;
    int64_t memoryBytes = -1;     // current: process RSS on CPU, allocated bytes on CUDA
    int64_t peakMemoryBytes = -1; // peak since the job started
    // A job of several processes: each one's current memory, by rank (rank 0's is memoryBytes); else empty.
    std::vector<int64_t> rankMemoryBytes;
};

// One line of a metrics.jsonl file (the trainer's and the CLI's --metrics): fields a stage does not
// measure are left out.
nlohmann::json metricSampleJson(const MetricSample &sample);
// The sample a metricSampleJson line holds; absent fields read as -1 (not reported). Throws
// nlohmann::json::exception when `line` is not such an object.
MetricSample metricSampleFromJson(const nlohmann::json &line);

// How a job ended. `message` is for a person: for Failed it says what happened and what to do.
struct JobResult
{
    enum class Status { Succeeded, Cancelled, Failed };
    Status status = Status::Succeeded;
    std::string message;

    bool ok() const { return status == Status::Succeeded; }
    static JobResult succeeded(std::string message = {}) { return {Status::Succeeded, std::move(message)}; }
    static JobResult cancelled() { return {Status::Cancelled, "cancelled by the user"}; }
    static JobResult failed(std::string message) { return {Status::Failed, std::move(message)}; }
};

// The channel between a running job and its front end (CLI or GUI). The job calls the reporting
// functions from its own thread; front ends override them and must make them thread-safe and cheap
// (buffer, never block). cancel()/pause()/resume() may be called from any thread.
class Feedback
{
public:
    virtual ~Feedback() = default;

    virtual void progress(const std::string &stage, int64_t done, int64_t total);
    // progress() labelled with one of the run's stages, and what in it (the evaluated model's name).
    void stageProgress(Stage stage, int64_t done, int64_t total, const std::string &subject = {})
    {
        progress(subject.empty() ? std::string(stageKey(stage))
                                 : std::string(stageKey(stage)) + " " + subject,
                 done, total);
    }
    virtual void metric(const MetricSample &sample);
    virtual void log(LogLevel level, const std::string &message);

    void cancel();
    // Async-signal-safe variant for a SIGINT handler: sets the flag only; a paused job notices it
    // within 100 ms.
    void requestCancelFromSignal() { m_cancelled = true; }
    bool isCancelled() const { return m_cancelled.load(); }
    void pause();
    void resume();
    bool isPaused() const { return m_paused.load(); }

    // Called by jobs at safe points (between steps): blocks while paused, throws CancelledError
    // once cancel() was called.
    void checkpoint();

private:
    std::atomic<bool> m_cancelled{false};
    std::atomic<bool> m_paused{false};
    std::mutex m_mutex;
    std::condition_variable m_wakeUp;
};

// Runs `body` and converts how it ended into a JobResult: a normal return is Succeeded, a
// CancelledError is Cancelled, any other exception is Failed with its message (also logged).
JobResult runJob(const std::function<void(Feedback &)> &body, Feedback &feedback);

} // namespace emloc::core
