#pragma once

#include "jobs/job_updates.h"
#include "jobs/job_worker.h"

#include <QObject>
#include <QThread>
#include <QTimer>

#include <memory>

namespace emloc::ui {

class JobFeedback;

// Runs long jobs (calibration, training, correction, export) off the GUI thread and delivers what
// they report in batches. One dedicated QThread hosts a JobWorker for the lifetime of the
// controller; one job runs at a time. A GUI timer (~30 Hz) pulls the JobFeedback buffer and emits
// updatesAvailable() once per tick that has news, so a job reporting thousands of samples per
// second costs the GUI thirty signals per second. GUI thread only.
class JobController : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultUpdateIntervalMs = 33;

    explicit JobController(QObject *parent = nullptr);
    // Cancels a running job and waits for the worker thread: a job must reach a checkpoint.
    ~JobController() override;

    // Returns false (and does nothing) while another job runs.
    bool start(const QString &name, JobFunction job);
    bool isRunning() const { return m_feedback != nullptr; }
    bool isPaused() const;
    bool isCancelling() const { return m_cancelling; }
    QString currentJobName() const { return m_jobName; }

    void pause();
    void resume();
    // The job stops at its next checkpoint (between steps); finished() follows with Cancelled.
    void cancel();

    void setUpdateIntervalMs(int intervalMs) { m_timer.setInterval(intervalMs); }
    int updateIntervalMs() const { return m_timer.interval(); }
    // Ticks that delivered a batch since construction (tests compare it with the samples sent).
    qint64 deliveredBatches() const { return m_deliveredBatches; }

Q_SIGNALS:
    void started(const QString &name);
    void pausedChanged(bool paused);
    void updatesAvailable(const emloc::ui::JobUpdates &updates);
    // After the last updatesAvailable() of the job.
    void finished(const emloc::ui::JobOutcome &outcome);

private:
    void deliverUpdates();
    void onWorkerFinished();

    QThread m_thread;
    JobWorker *m_worker = nullptr; // lives in m_thread, deleted when it finishes
    QTimer m_timer;
    std::shared_ptr<JobFeedback> m_feedback;
    QString m_jobName;
    bool m_cancelling = false;
    qint64 m_deliveredBatches = 0;
};

} // namespace emloc::ui
