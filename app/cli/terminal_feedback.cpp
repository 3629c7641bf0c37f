#include "terminal_feedback.h"

#include "emloc/api/error.h"
#include "emloc/util/memory.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace emloc::cli {

TerminalFeedback::TerminalFeedback(bool quiet) : m_quiet(quiet), m_isTerminal(isatty(STDERR_FILENO) == 1) {}

TerminalFeedback::~TerminalFeedback()
{
    finishLine();
}

void TerminalFeedback::openMetricsFile(const std::string &path)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_metrics.open(path, std::ios::app);
    // Without this check an unwritable --metrics path silently dropped every sample.
    if (!m_metrics)
        throw core::Error("cannot open the metrics file '" + path +
                          "' for appending; check that its folder exists "
                          "and is writable");
}

void TerminalFeedback::finishLine()
{
    if (m_lineOpen) {
        std::cerr << '\n';
        m_lineOpen = false;
    }
}

namespace {
std::string formatDuration(double seconds)
{
    if (seconds < 0)
        return "--:--";
    auto total = static_cast<long>(seconds + 0.5);
    char text[32];
    if (total >= 3600)
        std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
    else
        std::snprintf(text, sizeof text, "%02ld:%02ld", total / 60, total % 60);
    return text;
}
} // namespace

void TerminalFeedback::drawBar(const std::string &stage, int64_t done, int64_t total)
{
    int percent = total > 0 ? static_cast<int>(100 * done / total) : 0;
    auto now = std::chrono::steady_clock::now();
    if (m_isTerminal) {
        // Redraw at most 10 times a second, and always at the end.
        if (done != total && now - m_lastDraw < std::chrono::milliseconds(100))
            return;
        m_lastDraw = now;
        constexpr int kWidth = 28;
        int filled = total > 0 ? static_cast<int>(kWidth * done / total) : 0;
        std::string bar(static_cast<size_t>(filled), '#');
        bar.resize(kWidth, '.');
        std::cerr << "\r\033[K" << stage << " [" << bar << "] " << done << "/" << total << " "
                  << m_lastMetricText << std::flush;
        m_lineOpen = true;
        if (done == total)
            finishLine();
    } else if (stage != m_lastStage || percent / 10 != m_lastPercent / 10 || done == total) {
        // Plain lines, one per 10 %, so logs stay readable.
        std::cerr << stage << ": " << done << "/" << total << " (" << percent << "%) " << m_lastMetricText
                  << '\n';
    }
    m_lastStage = stage;
    m_lastPercent = percent;
}

void TerminalFeedback::progress(const std::string &stage, int64_t done, int64_t total)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    // A metric line belongs to its own stage: "train" numbers must not trail the evaluation's bar.
    if (stage.rfind(m_lastMetricStage, 0) != 0)
        m_lastMetricText.clear();
    if (!m_quiet)
        drawBar(stage, done, total);
}

void TerminalFeedback::metric(const core::MetricSample &sample)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    std::string text;
    char buffer[64];
    if (sample.loss >= 0) {
        std::snprintf(buffer, sizeof buffer, "loss %.4f ", sample.loss);
        text += buffer;
    }
    if (sample.tokensPerSecond >= 0) {
        std::snprintf(buffer, sizeof buffer, "%.0f tok/s ", sample.tokensPerSecond);
        text += buffer;
    }
    if (sample.peakMemoryBytes >= 0)
        text += "peak " + core::formatBytes(sample.peakMemoryBytes) + " ";
    if (sample.etaSeconds >= 0)
        text += "ETA " + formatDuration(sample.etaSeconds);
    m_lastMetricText = text;
    m_lastMetricStage = sample.stage;
    if (m_metrics.is_open()) {
        m_metrics << core::metricSampleJson(sample).dump() << '\n' << std::flush;
    }
}

void TerminalFeedback::log(core::LogLevel level, const std::string &message)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    if (level == core::LogLevel::Debug || (m_quiet && level != core::LogLevel::Error))
        return;
    finishLine();
    const char *prefix = level == core::LogLevel::Error     ? "error: "
                         : level == core::LogLevel::Warning ? "warning: "
                                                            : "";
    std::cerr << prefix << message << '\n';
}

} // namespace emloc::cli
