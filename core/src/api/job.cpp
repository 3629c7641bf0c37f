#include "emloc/api/job.h"

#include "emloc/api/error.h"

namespace emloc::core {

void Feedback::progress(const std::string &, int64_t, int64_t) {}
void Feedback::metric(const MetricSample &) {}
void Feedback::log(LogLevel, const std::string &) {}

void Feedback::cancel()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_cancelled = true;
    }
    m_wakeUp.notify_all(); // a paused job must wake up to notice the cancel
}

void Feedback::pause()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_paused = true;
}

void Feedback::resume()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
    }
    m_wakeUp.notify_all();
}

void Feedback::checkpoint()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    while (m_paused && !m_cancelled)
        m_wakeUp.wait_for(lock, std::chrono::milliseconds(100));
    if (m_cancelled)
        throw CancelledError();
}

JobResult runJob(const std::function<void(Feedback &)> &body, Feedback &feedback)
{
    try {
        body(feedback);
        return JobResult::succeeded();
    } catch (const CancelledError &) {
        feedback.log(LogLevel::Info, "Cancelled.");
        return JobResult::cancelled();
    } catch (const Error &e) {
        feedback.log(LogLevel::Error, e.what());
        return JobResult::failed(e.what());
    } catch (const std::bad_alloc &) {
        std::string message =
            "Out of host memory. Lower the batch size, sequence length or calibration samples.";
        feedback.log(LogLevel::Error, message);
        return JobResult::failed(message);
    } catch (const std::exception &e) {
        const std::string message = firstLineOf(e.what());
        feedback.log(LogLevel::Error, message);
        return JobResult::failed(message);
    }
}

nlohmann::json metricSampleJson(const MetricSample &sample)
{
    nlohmann::json line = {{"stage", sample.stage},
                           {"step", sample.step},
                           {"total_steps", sample.totalSteps},
                           {"elapsed_s", sample.elapsedSeconds}};
    auto put = [&](const char *key, double value) {
        if (value >= 0)
            line[key] = value;
    };
    put("loss", sample.loss);
    put("validation_loss", sample.validationLoss);
    put("lr", sample.learningRate);
    put("grad_norm", sample.gradNorm);
    put("tokens_per_s", sample.tokensPerSecond);
    put("eta_s", sample.etaSeconds);
    if (sample.memoryBytes >= 0)
        line["memory_bytes"] = sample.memoryBytes;
    if (sample.peakMemoryBytes >= 0)
        line["peak_memory_bytes"] = sample.peakMemoryBytes;
    if (!sample.rankMemoryBytes.empty())
        line["rank_memory_bytes"] = sample.rankMemoryBytes;
    return line;
}

MetricSample metricSampleFromJson(const nlohmann::json &line)
{
    MetricSample sample;
    sample.stage = line.at("stage").get<std::string>();
    sample.step = line.value("step", int64_t(0));
    sample.totalSteps = line.value("total_steps", int64_t(0));
    sample.elapsedSeconds = line.value("elapsed_s", 0.0);
    sample.loss = line.value("loss", -1.0);
    sample.validationLoss = line.value("validation_loss", -1.0);
    sample.learningRate = line.value("lr", -1.0);
    sample.gradNorm = line.value("grad_norm", -1.0);
    sample.tokensPerSecond = line.value("tokens_per_s", -1.0);
    sample.etaSeconds = line.value("eta_s", -1.0);
    sample.memoryBytes = line.value("memory_bytes", int64_t(-1));
    sample.peakMemoryBytes = line.value("peak_memory_bytes", int64_t(-1));
    sample.rankMemoryBytes = line.value("rank_memory_bytes", std::vector<int64_t>{});
    return sample;
}

} // namespace emloc::core
