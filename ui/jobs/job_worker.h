#pragma once

#include "jobs/job_updates.h"

#include "emloc/job.h"

#include <QObject>

#include <functional>
#include <memory>

namespace emloc::ui {

class JobFeedback;

using JobFunction = std::function<void(core::Feedback &)>;

// Lives in the JobController's dedicated thread and runs one job at a time through core::runJob,
// so every exception becomes a JobOutcome. It owns nothing of the GUI; the model and device the
// job uses are the job's own.
class JobWorker : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // Worker thread. Blocks until the job returns, then emits finished().
    void run(const QString &name, const JobFunction &job, const std::shared_ptr<JobFeedback> &feedback);

Q_SIGNALS:
    void finished(const emloc::ui::JobOutcome &outcome);
};

} // namespace emloc::ui
