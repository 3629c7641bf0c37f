#include "jobs/job_worker.h"

#include "jobs/job_feedback.h"

#include <QElapsedTimer>

namespace emloc::ui {

void JobWorker::run(const QString &name, const JobFunction &job, const std::shared_ptr<JobFeedback> &feedback)
{
    QElapsedTimer clock;
    clock.start();
    const core::JobResult result = core::runJob(job, *feedback);

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
    outcome.jobName = name;
    outcome.elapsedSeconds = static_cast<double>(clock.elapsed()) / 1000.0;
    Q_EMIT finished(outcome);
}

} // namespace emloc::ui
