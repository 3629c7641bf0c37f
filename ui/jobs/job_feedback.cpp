#include "jobs/job_feedback.h"

#include <algorithm>

namespace emloc::ui {

JobFeedback::JobFeedback()
{
    m_clock.start();
}

void JobFeedback::progress(const std::string &stage, int64_t done, int64_t total)
{
    const QString name = QString::fromStdString(stage);
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = std::find_if(m_pending.progress.begin(), m_pending.progress.end(),
                           [&](const StageProgress &p) { return p.stage == name; });
    if (it != m_pending.progress.end()) {
        it->done = done;
        it->total = total;
    } else {
        m_pending.progress.push_back({name, done, total});
    }
}

void JobFeedback::metric(const core::MetricSample &sample)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.metrics.push_back(sample);
}

void JobFeedback::log(core::LogLevel level, const std::string &message)
{
    const double elapsed = static_cast<double>(m_clock.elapsed()) / 1000.0;
    QString text = QString::fromStdString(message);
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_pending.logs.size() >= kMaxLogLinesPerBatch) {
        ++m_pending.droppedLogLines;
        return;
    }
    m_pending.logs.push_back({level, std::move(text), elapsed});
}

JobUpdates JobFeedback::takeUpdates()
{
    JobUpdates taken;
    std::lock_guard<std::mutex> lock(m_mutex);
    std::swap(taken, m_pending);
    return taken;
}

} // namespace emloc::ui
