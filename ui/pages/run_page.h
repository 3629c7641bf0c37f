#pragma once

#include "jobs/job_clock.h"
#include "jobs/job_updates.h"
#include "jobs/run_record.h"
#include "widgets/page.h"

#include "emloc/api/stages.h"

#include <QDateTime>
#include <QElapsedTimer>

#include <optional>
#include <vector>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTimer;

namespace emloc::ui {

class JobController;
class LossPlot;
class MemoryPlot;
class StatCard;

// Watches a running job: stage progress, live loss and memory plots, ETA and throughput, the log,
// and Pause / Resume / Cancel. Everything arrives in batches from the JobController's timer.
class RunPage : public Page
{
    Q_OBJECT

public:
    enum class Stage { Build, Train, Correct };

    explicit RunPage(JobController *controller, QWidget *parent = nullptr);

    // Whether Start can be pressed, and if not, why (shown under the buttons).
    void setStartAvailable(bool available, const QString &reason);
    // Clears the plots and bars for a new run that must stay within `budgetBytes` (0: no budget line).
    void prepareRun(qint64 budgetBytes);
    // The job about to start runs as one process per device named here ("cuda:0", "cuda:1"): their memory
    // is drawn line by line, and it cannot pause (the other processes would time out waiting).
    void setJobProcesses(const QStringList &devices);

    // Before any run this session: the folder's last run as recorded (its training's losses on the loss
    // plot), or nothing. A run watched this session keeps its plots.
    void showRecord(const RunRecord &record);
    bool showsRecord() const { return m_showingRecord; }

    // Every sample of the current or last run, for the Results page.
    const std::vector<core::MetricSample> &samples() const { return m_samples; }

    LossPlot *lossPlot() const { return m_lossPlot; }
    MemoryPlot *memoryPlot() const { return m_memoryPlot; }
    QProgressBar *stageBar(Stage stage) const;
    QPlainTextEdit *logView() const { return m_log; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *resumeButton() const { return m_resume; }
    QPushButton *cancelButton() const { return m_cancel; }
    QString stateText() const;
    QString stepText() const;
    QString activity() const { return m_activity; }
    QString timeLeftText() const;

Q_SIGNALS:
    void startRequested();
    // What the running job is doing now, by stage ("Building the emulator (stage 1 of 3)").
    void activityChanged(const QString &activity);

private:
    void appendUpdates(const emloc::ui::JobUpdates &updates);
    void appendLogLines(const std::vector<LogLine> &lines, qint64 dropped);
    void updateProgress(const StageProgress &progress);
    void setActivity(std::optional<core::Stage> stage);
    void updateStats(const core::MetricSample &latest);
    void onStarted(const QString &name);
    void onFinished(const emloc::ui::JobOutcome &outcome);
    void onPausedChanged(bool paused);
    void updateButtons();
    void setState(const QString &text);
    void updateElapsed();

    JobController *m_controller = nullptr;
    bool m_startAvailable = false;

    QPushButton *m_start = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_resume = nullptr;
    QPushButton *m_cancel = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_startHint = nullptr;

    StatCard *m_step = nullptr;
    StatCard *m_loss = nullptr;
    StatCard *m_throughput = nullptr;
    StatCard *m_eta = nullptr;
    StatCard *m_elapsed = nullptr;
    StatCard *m_peak = nullptr;
    QProgressBar *m_bars[3] = {};
    QLabel *m_barLabels[3] = {};
    bool m_stageReported[3] = {};
    QString m_activity; // the running stage in words; empty before the first report

    LossPlot *m_lossPlot = nullptr;
    MemoryPlot *m_memoryPlot = nullptr;
    QStringList m_jobProcesses; // several: the devices of a job of several processes
    QPlainTextEdit *m_log = nullptr;

    QTimer *m_clockTimer = nullptr;
    QElapsedTimer m_runClock;
    // The job's own clock (its samples' elapsed time) and when it was last read: Elapsed shows the
    // job's time, ticking on between samples.
    double m_jobSeconds = -1;
    QElapsedTimer m_sinceSample;
    std::vector<core::MetricSample> m_samples; // on the job's clock (m_clock)
    bool m_showingRecord = false;              // the loss plot shows a recorded run's training
    JobClock m_clock;
    qint64 m_peakBytes = -1;
};

} // namespace emloc::ui
