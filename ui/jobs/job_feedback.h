#pragma once

#include "jobs/job_updates.h"

#include "emloc/api/job.h"

#include <QElapsedTimer>

#include <mutex>

namespace emloc::ui {

// The GUI's side of core::Feedback. The job's thread calls progress/metric/log, which only append
// to a mutex-guarded buffer; the GUI thread swaps the buffer out with takeUpdates() on its timer.
// pause()/resume()/cancel() (inherited) may be called from the GUI thread at any time. One object
// per job: the cancel flag of core::Feedback cannot be cleared.
class JobFeedback final : public core::Feedback
{
public:
    // More log lines than this between two ticks are counted, not kept.
    static constexpr std::size_t kMaxLogLinesPerBatch = 2000;

    JobFeedback();

    void progress(const std::string &stage, int64_t done, int64_t total) override;
    void metric(const core::MetricSample &sample) override;
    void log(core::LogLevel level, const std::string &message) override;

    // GUI thread: everything reported since the previous call.
    JobUpdates takeUpdates();

private:
    std::mutex m_mutex;
    JobUpdates m_pending;
    QElapsedTimer m_clock;
};

} // namespace emloc::ui
