#include "jobs/job_controller.h"

#include "jobs/job_feedback.h"

namespace emloc::ui {

JobController::JobController(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<JobUpdates>();
    qRegisterMetaType<JobOutcome>();

    m_thread.setObjectName(QStringLiteral("emloc-job"));
    m_worker = new JobWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &JobWorker::finished, this, &JobController::onWorkerFinished, Qt::QueuedConnection);
    m_thread.start();

    m_timer.setInterval(kDefaultUpdateIntervalMs);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, &JobController::deliverUpdates);
}

JobController::~JobController()
{
    if (m_feedback) {
        m_feedback->resume();
        m_feedback->cancel();
    }
    // quit() takes effect once the worker returns to its event loop, i.e. after the job ends.
    m_thread.quit();
    m_thread.wait();
}

bool JobController::start(const QString &name, JobFunction job)
{
    if (isRunning())
        return false;
    m_feedback = std::make_shared<JobFeedback>();
    m_jobName = name;
    m_cancelling = false;
    m_worker->post(name, std::move(job), m_feedback);
    m_timer.start();
    Q_EMIT started(name);
    return true;
}

bool JobController::isPaused() const
{
    return m_feedback && m_feedback->isPaused();
}

void JobController::pause()
{
    if (!m_feedback || m_feedback->isPaused() || m_cancelling)
        return;
    m_feedback->pause();
    Q_EMIT pausedChanged(true);
}

void JobController::resume()
{
    if (!m_feedback || !m_feedback->isPaused())
        return;
    m_feedback->resume();
    Q_EMIT pausedChanged(false);
}

void JobController::cancel()
{
    if (!m_feedback || m_cancelling)
        return;
    m_cancelling = true;
    m_feedback->cancel(); // also wakes a paused job
    if (m_feedback->isPaused()) {
        m_feedback->resume();
        Q_EMIT pausedChanged(false);
    }
}

void JobController::deliverUpdates()
{
    if (!m_feedback)
        return;
    JobUpdates updates = m_feedback->takeUpdates();
    if (updates.isEmpty())
        return;
    ++m_deliveredBatches;
    Q_EMIT updatesAvailable(updates);
}

void JobController::onWorkerFinished()
{
    const JobOutcome outcome = m_worker->takeOutcome();
    m_timer.stop();
    deliverUpdates(); // whatever the job reported after the last tick
    m_feedback.reset();
    m_cancelling = false;
    Q_EMIT finished(outcome);
}

} // namespace emloc::ui
