#include "jobs/job_worker.h"

#include "jobs/job_feedback.h"

#include <QElapsedTimer>

namespace emloc::ui {

void JobWorker::post(const QString &name, JobFunction job, std::shared_ptr<JobFeedback> feedback)
{
    m_posted.with([&](Posted &posted) { posted = {name, std::move(job), std::move(feedback)}; });
    QMetaObject::invokeMethod(this, "runPosted", Qt::QueuedConnection);
}

JobOutcome JobWorker::takeOutcome()
{
    return m_outcome.take();
}

void JobWorker::runPosted()
{
    Posted posted = m_posted.take();
    QElapsedTimer clock;
    clock.start();
    const core::JobResult result = core::runJob(posted.job, *posted.feedback);

    JobOutcome outcome;
    switch (result.status) {
    case core::JobResult::Status::Succeeded:
        outcome.status = JobOutcome::Status::Succeeded;
        break;
    case core::JobResult::Status::Cancelled:
        outcome.status = JobOutcome::Status::Cancelled;
        break;
    case core::JobResult::Status::Failed:
        outcome.status = JobOutcome::Status::Failed;
        break;
    }
    outcome.message = QString::fromStdString(result.message);
    outcome.jobName = posted.name;
    outcome.elapsedSeconds = static_cast<double>(clock.elapsed()) / 1000.0;
    posted = {}; // the job's captures (model, data) go before the GUI hears it ended
    m_outcome.with([&](JobOutcome &slot) { slot = std::move(outcome); });
    Q_EMIT finished();
}

} // namespace emloc::ui
