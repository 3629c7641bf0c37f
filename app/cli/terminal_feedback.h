#pragma once

#include "emloc/api/job.h"

#include <chrono>
#include <fstream>
#include <mutex>
#include <string>

namespace emloc::cli {

// The CLI's implementation of the job interface: a redrawn progress bar on a terminal, plain
// lines when stderr is not one (logs, CI), nothing but errors with --quiet. Optionally appends
// every metric sample as a JSON line to a file.
class TerminalFeedback : public core::Feedback
{
public:
    explicit TerminalFeedback(bool quiet);
    ~TerminalFeedback() override;

    void progress(const std::string &stage, int64_t done, int64_t total) override;
    void metric(const core::MetricSample &sample) override;
    void log(core::LogLevel level, const std::string &message) override;

    // Appends every metric sample to this JSONL file from now on.
    void openMetricsFile(const std::string &path);
    // Ends a progress line in place so later output starts on a fresh line.
    void finishLine();

private:
    void drawBar(const std::string &stage, int64_t done, int64_t total);

    bool m_quiet;
    bool m_isTerminal;
    bool m_lineOpen = false;
    std::mutex m_mutex;
    std::ofstream m_metrics;
    std::string m_lastStage;
    std::string m_lastMetricText;
    std::string m_lastMetricStage;
    int m_lastPercent = -1;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_lastDraw{};
};

} // namespace emloc::cli
