#pragma once

#include "jobs/job_updates.h"
#include "jobs/locked.h"

#include "emloc/api/job.h"

#include <QObject>

#include <functional>
#include <memory>

namespace emloc::ui {

class JobFeedback;

using JobFunction = std::function<void(core::Feedback &)>;

// Lives in the JobController's dedicated thread and runs one job at a time through core::runJob,
// so every exception becomes a JobOutcome. It owns nothing of the GUI; the model and device the
// job uses are the job's own. The job goes in and its outcome comes out through Locked mailboxes;
// the queued call and the signal that announce them carry no data (see locked.h).
class JobWorker : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // GUI thread: hands over the next job and queues runPosted() in the worker's thread.
    void post(const QString &name, JobFunction job, std::shared_ptr<JobFeedback> feedback);
    // GUI thread, after finished(): how the job ended.
    JobOutcome takeOutcome();

public Q_SLOTS:
    // Worker thread. Blocks until the posted job returns, then emits finished().
    void runPosted();

Q_SIGNALS:
    void finished();

private:
    struct Posted
    {
        QString name;
        JobFunction job;
        std::shared_ptr<JobFeedback> feedback;
    };
    Locked<Posted> m_posted;
    Locked<JobOutcome> m_outcome;
};

} // namespace emloc::ui
