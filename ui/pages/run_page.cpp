#include "pages/run_page.h"

#include "format.h"
#include "jobs/job_controller.h"
#include "widgets/loss_plot.h"
#include "widgets/memory_plot.h"
#include "widgets/stat_card.h"

#include <QFontDatabase>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

namespace emloc::ui {

namespace {
constexpr int kMaxLogBlocks = 20000;

// The progress bar (the method's stage) a stage's progress moves; -1 for evaluation, export and other work.
int stageIndex(std::optional<core::Stage> stage)
{
    // Not the emulator's files (its bar already shows the layers done) nor a validation (its steps are
    // training's).
    if (!stage || *stage == core::Stage::Write || *stage == core::Stage::Validate ||
        *stage == core::Stage::RefineValidate)
        return -1;
    return core::methodStage(*stage) - 1;
}

int stageIndex(const std::string &key)
{
    return stageIndex(core::stageFromKey(key));
}

// What a stage's counter counts: the Step card never shows layers as if they were optimizer steps.
QString stepCount(std::optional<core::Stage> stage, qint64 done, qint64 total)
{
    const QString d = QLocale().toString(done);
    const QString t = QLocale().toString(total);
    if (stage == core::Stage::Calibrate)
        return total > 0 ? RunPage::tr("%1 / %2 batches").arg(d, t) : RunPage::tr("%1 batches").arg(d);
    if (stage == core::Stage::Build)
        return total > 0 ? RunPage::tr("%1 / %2 layers").arg(d, t) : RunPage::tr("%1 layers").arg(d);
    if (stage == core::Stage::Correct)
        return total > 0 ? RunPage::tr("%1 / %2 modules").arg(d, t) : RunPage::tr("%1 modules").arg(d);
    return total > 0 ? RunPage::tr("%1 / %2 steps").arg(d, t) : RunPage::tr("%1 steps").arg(d);
}

// The running stage in words; empty for work that is not a stage of the run (loading, generating).
QString stageActivity(std::optional<core::Stage> stage)
{
    if (!stage)
        return {};
    switch (*stage) {
    case core::Stage::Calibrate:
        return RunPage::tr("Building the emulator: calibrating (stage 1 of 3)");
    case core::Stage::Emulator:
    case core::Stage::Build:
    case core::Stage::Write:
        return RunPage::tr("Building the emulator (stage 1 of 3)");
    case core::Stage::Train:
    case core::Stage::Validate:
        return RunPage::tr("Fine-tuning LoRA on the emulator (stage 2 of 3)");
    case core::Stage::Correct:
        return RunPage::tr("Correcting LoRA for the original model (stage 3 of 3)");
    case core::Stage::Refine:
    case core::Stage::RefineValidate:
        return RunPage::tr("Refining the last layers' LoRA on the original model (stage 3 of 3)");
    case core::Stage::Evaluate:
        return RunPage::tr("Evaluating on held-out examples");
    case core::Stage::Export:
        return RunPage::tr("Exporting");
    }
    return {};
}

QGroupBox *framed(const QString &title, QWidget *content, QWidget *parent)
{
    auto *box = new QGroupBox(title, parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 8, 6, 6);
    layout->addWidget(content);
    return box;
}
} // namespace

RunPage::RunPage(JobController *controller, QWidget *parent)
    : Page(tr("Run"),
           tr("Build the emulator, fine-tune LoRA on it, and correct the LoRA for the original model: live."),
           Scrolling::None, parent),
      m_controller(controller)
{
    setObjectName(QStringLiteral("runPage"));

    auto *buttons = new QHBoxLayout;
    buttons->setSpacing(8);
    m_start = new QPushButton(QIcon(QStringLiteral(":/icons/media-start.svg")), tr("&Start"), this);
    m_start->setObjectName(QStringLiteral("primary"));
    m_start->setToolTip(tr("Run all stages with the project's settings (F5)."));
    m_pause = new QPushButton(QIcon(QStringLiteral(":/icons/media-pause.svg")), tr("&Pause"), this);
    m_pause->setToolTip(tr("Hold the job after its current step; memory stays allocated."));
    m_resume = new QPushButton(QIcon(QStringLiteral(":/icons/media-resume.svg")), tr("Res&ume"), this);
    m_resume->setToolTip(tr("Continue a paused job."));
    m_cancel = new QPushButton(QIcon(QStringLiteral(":/icons/media-stop.svg")), tr("&Cancel"), this);
    m_cancel->setToolTip(tr("Stop the job after its current step; nothing half-written is left behind."));
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("runState"));
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A recorded run's state is a long sentence: wrapped, so it never sets the window's width.
    m_state->setWordWrap(true);
    buttons->addWidget(m_start);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_resume);
    buttons->addWidget(m_cancel);
    buttons->addSpacing(12);
    buttons->addWidget(m_state, 1);
    contentLayout()->addLayout(buttons);

    m_startHint = new QLabel(this);
    m_startHint->setObjectName(QStringLiteral("hint"));
    m_startHint->setWordWrap(true);
    m_startHint->setVisible(false);
    contentLayout()->addWidget(m_startHint);

    auto *stats = new QHBoxLayout;
    stats->setSpacing(10);
    m_step = new StatCard(tr("Progress"), this);
    m_loss = new StatCard(tr("Training loss"), this);
    m_throughput = new StatCard(tr("Tokens/s"), this);
    m_eta = new StatCard(tr("Time left"), this);
    m_elapsed = new StatCard(tr("Elapsed"), this);
    m_peak = new StatCard(tr("Peak memory"), this);
    m_step->setObjectName(QStringLiteral("stepCard"));
    m_throughput->setObjectName(QStringLiteral("throughputCard"));
    m_eta->setObjectName(QStringLiteral("etaCard"));
    for (StatCard *card : {m_step, m_loss, m_throughput, m_eta, m_elapsed, m_peak})
        stats->addWidget(card, 1);
    contentLayout()->addLayout(stats);

    auto *stages = new QGroupBox(tr("Stages"), this);
    auto *grid = new QGridLayout(stages);
    grid->setHorizontalSpacing(14);
    grid->setVerticalSpacing(6);
    grid->setColumnStretch(1, 1);
    const QString stageNames[3] = {tr("1  Calibrate and build the emulator"),
                                   tr("2  Fine-tune LoRA on the emulator"),
                                   tr("3  Correct LoRA for the original model")};
    for (int i = 0; i < 3; ++i) {
        m_barLabels[i] = new QLabel(stageNames[i], stages);
        m_bars[i] = new QProgressBar(stages);
        m_bars[i]->setRange(0, 1);
        m_bars[i]->setValue(0);
        m_bars[i]->setFormat(tr("Waiting"));
        m_bars[i]->setAccessibleName(stageNames[i]);
        grid->addWidget(m_barLabels[i], i, 0);
        grid->addWidget(m_bars[i], i, 1);
    }
    m_bars[0]->setObjectName(QStringLiteral("buildProgress"));
    m_bars[1]->setObjectName(QStringLiteral("trainProgress"));
    m_bars[2]->setObjectName(QStringLiteral("correctProgress"));
    contentLayout()->addWidget(stages);

    m_lossPlot = new LossPlot(this);
    m_memoryPlot = new MemoryPlot(this);
    auto *plots = new QSplitter(Qt::Horizontal, this);
    plots->setChildrenCollapsible(false);
    plots->addWidget(framed(tr("Loss"), m_lossPlot, plots));
    plots->addWidget(framed(tr("Memory"), m_memoryPlot, plots));

    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("log"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kMaxLogBlocks);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setPlaceholderText(tr("The job's messages appear here."));
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setAccessibleName(tr("Log"));

    auto *vertical = new QSplitter(Qt::Vertical, this);
    vertical->setChildrenCollapsible(false);
    vertical->addWidget(plots);
    vertical->addWidget(m_log);
    vertical->setStretchFactor(0, 3);
    vertical->setStretchFactor(1, 1);
    contentLayout()->addWidget(vertical, 1);

    m_clockTimer = new QTimer(this);
    m_clockTimer->setInterval(1000);
    connect(m_clockTimer, &QTimer::timeout, this, &RunPage::updateElapsed);

    connect(m_start, &QPushButton::clicked, this, &RunPage::startRequested);
    connect(m_pause, &QPushButton::clicked, m_controller, &JobController::pause);
    connect(m_resume, &QPushButton::clicked, m_controller, &JobController::resume);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_controller->cancel();
        setState(tr("Cancelling: the job stops after its current step…"));
        updateButtons();
    });
    connect(m_controller, &JobController::started, this, &RunPage::onStarted);
    connect(m_controller, &JobController::updatesAvailable, this, &RunPage::appendUpdates);
    connect(m_controller, &JobController::finished, this, &RunPage::onFinished);
    connect(m_controller, &JobController::pausedChanged, this, &RunPage::onPausedChanged);

    setState(tr("Idle"));
    updateButtons();
}

void RunPage::setStartAvailable(bool available, const QString &reason)
{
    m_startAvailable = available;
    m_startHint->setText(reason);
    m_startHint->setVisible(!reason.isEmpty());
    updateButtons();
}

void RunPage::prepareRun(qint64 budgetBytes)
{
    // Nothing of the last run may linger into this one: counters, time left, the state line.
    m_activity.clear();
    m_samples.clear();
    m_showingRecord = false;
    m_clock.reset();
    m_peakBytes = -1;
    m_lossPlot->clearData();
    m_memoryPlot->clearData();
    m_memoryPlot->setBudgetBytes(budgetBytes);
    setJobProcesses({});
    m_log->clear();
    for (int i = 0; i < 3; ++i) {
        m_bars[i]->setRange(0, 1);
        m_bars[i]->setValue(0);
        m_bars[i]->setFormat(tr("Waiting"));
        m_stageReported[i] = false;
    }
    for (StatCard *card : {m_step, m_loss, m_throughput, m_eta, m_elapsed, m_peak})
        card->setValue(QStringLiteral("–"));
    setState(QString());
}

void RunPage::showRecord(const RunRecord &record)
{
    if (m_controller->isRunning() || !m_samples.empty())
        return;
    const bool wasShowing = m_showingRecord;
    m_showingRecord = record.finishedRun() && !record.trainingMetrics.empty();
    if (!m_showingRecord) {
        if (wasShowing) { // another project's run must not stay on screen
            m_lossPlot->clearData();
            setState(tr("Idle"));
        }
        return;
    }
    m_lossPlot->clearData();
    m_lossPlot->appendSamples(record.trainingMetrics);
    setState(tr("The plot shows the training of this folder's last run (finished on %1). Start runs the "
                "stages again, reusing those whose inputs and settings did not change.")
                 .arg(QLocale().toString(record.finished, QLocale::ShortFormat)));
}

QProgressBar *RunPage::stageBar(Stage stage) const
{
    return m_bars[static_cast<int>(stage)];
}

QString RunPage::stateText() const
{
    return m_state->text();
}

QString RunPage::stepText() const
{
    return m_step->value();
}

QString RunPage::timeLeftText() const
{
    return m_eta->value();
}

void RunPage::appendUpdates(const JobUpdates &updates)
{
    if (!updates.metrics.empty()) {
        std::vector<core::MetricSample> samples;
        samples.reserve(updates.metrics.size());
        for (const core::MetricSample &sample : updates.metrics)
            samples.push_back(m_clock.toJobClock(sample));
        m_samples.insert(m_samples.end(), samples.begin(), samples.end());
        m_lossPlot->appendSamples(samples);
        m_memoryPlot->appendSamples(samples);
        for (const core::MetricSample &sample : samples) {
            m_peakBytes = std::max<qint64>({m_peakBytes, sample.peakMemoryBytes, sample.memoryBytes});
            for (const int64_t bytes : sample.rankMemoryBytes)
                m_peakBytes = std::max<qint64>(m_peakBytes, bytes);
            if (stageIndex(sample.stage) >= 0 && sample.totalSteps > 0)
                updateProgress({QString::fromStdString(sample.stage), sample.step, sample.totalSteps});
        }
        updateStats(samples.back());
    }
    for (const StageProgress &progress : updates.progress)
        updateProgress(progress);
    appendLogLines(updates.logs, updates.droppedLogLines);
}

void RunPage::appendLogLines(const std::vector<LogLine> &lines, qint64 dropped)
{
    if (lines.empty() && dropped == 0)
        return;
    QScrollBar *scroll = m_log->verticalScrollBar();
    const bool follow = scroll->value() >= scroll->maximum() - 4;

    QTextCharFormat normal;
    QTextCharFormat warning;
    warning.setForeground(QColor(0xfb, 0xbf, 0x24));
    QTextCharFormat error;
    error.setForeground(QColor(0xf8, 0x71, 0x71));
    QTextCharFormat muted;
    muted.setForeground(QColor(0x94, 0xa3, 0xb8));

    QTextCursor cursor(m_log->document());
    cursor.movePosition(QTextCursor::End);
    cursor.beginEditBlock();
    bool first = m_log->document()->isEmpty();
    const auto newLine = [&] {
        if (!first)
            cursor.insertBlock();
        first = false;
    };
    for (const LogLine &line : lines) {
        newLine();
        const qint64 seconds = static_cast<qint64>(line.elapsedSeconds);
        cursor.insertText(QStringLiteral("%1:%2  ")
                              .arg(seconds / 60, 2, 10, QLatin1Char('0'))
                              .arg(seconds % 60, 2, 10, QLatin1Char('0')),
                          muted);
        switch (line.level) {
        case core::LogLevel::Warning:
            cursor.insertText(tr("warning: ") + line.text, warning);
            break;
        case core::LogLevel::Error:
            cursor.insertText(tr("error: ") + line.text, error);
            break;
        default:
            cursor.insertText(line.text, line.level == core::LogLevel::Debug ? muted : normal);
        }
    }
    if (dropped > 0) {
        newLine();
        cursor.insertText(tr("(%n line(s) not shown: the job logged faster than they can be read)", nullptr,
                             static_cast<int>(std::min<qint64>(dropped, INT_MAX))),
                          muted);
    }
    cursor.endEditBlock();
    if (follow)
        scroll->setValue(scroll->maximum());
}

void RunPage::updateProgress(const StageProgress &progress)
{
    const std::optional<core::Stage> stage = core::stageFromKey(progress.stage.toStdString());
    setActivity(stage);
    const int index = stageIndex(stage);
    if (index < 0)
        return;
    m_step->setValue(stepCount(stage, progress.done, progress.total));
    QProgressBar *bar = m_bars[index];
    // QProgressBar holds ints; scale large totals (token counts) down.
    const qint64 scale = progress.total > INT_MAX ? progress.total / INT_MAX + 1 : 1;
    bar->setRange(0, static_cast<int>(progress.total / scale));
    bar->setValue(static_cast<int>(std::min(progress.done, progress.total) / scale));
    QString verb;
    if (stage == core::Stage::Calibrate)
        verb = tr("Calibrating");
    else if (stage == core::Stage::Build)
        verb = tr("Building layers");
    else if (stage == core::Stage::Train)
        verb = tr("Training");
    else if (stage == core::Stage::Refine)
        verb = tr("Refining");
    else
        verb = tr("Correcting layers");
    if (progress.total <= 0)
        bar->setFormat(verb);
    else if (progress.done >= progress.total)
        bar->setFormat(tr("%1: done (%2 of %2)").arg(verb, QLocale().toString(progress.total)));
    else
        bar->setFormat(tr("%1: %2 of %3 (%p%)")
                           .arg(verb, QLocale().toString(progress.done), QLocale().toString(progress.total)));
    m_stageReported[index] = true;
    // A job that starts at a later stage (e.g. training on a saved emulator) skips the earlier ones.
    for (int earlier = 0; earlier < index; ++earlier) {
        if (!m_stageReported[earlier])
            m_bars[earlier]->setFormat(tr("Skipped"));
    }
}

void RunPage::updateStats(const core::MetricSample &latest)
{
    // The newest training loss: a validation sample does not replace it.
    for (auto it = m_samples.rbegin(); it != m_samples.rend(); ++it) {
        if (core::stageFromKey(it->stage) == core::Stage::Train && it->loss >= 0) {
            m_loss->setValue(formatNumber(it->loss));
            break;
        }
    }
    if (latest.tokensPerSecond >= 0)
        m_throughput->setValue(
            QLocale().toString(latest.tokensPerSecond, 'f', latest.tokensPerSecond < 100 ? 1 : 0));
    if (latest.etaSeconds >= 0)
        m_eta->setValue(formatDuration(latest.etaSeconds));
    if (m_peakBytes >= 0)
        m_peak->setValue(formatBytes(m_peakBytes));
    if (latest.elapsedSeconds >= 0) {
        m_jobSeconds = latest.elapsedSeconds;
        m_sinceSample.start();
        updateElapsed();
    }
}

void RunPage::onStarted(const QString &name)
{
    m_runClock.start();
    m_jobSeconds = -1;
    m_sinceSample.invalidate();
    m_clockTimer->start();
    m_elapsed->setValue(formatDuration(0));
    setState(tr("Running: %1").arg(name));
    updateButtons();
}

void RunPage::onFinished(const JobOutcome &outcome)
{
    m_clockTimer->stop();
    updateElapsed();
    const double seconds = std::max(outcome.elapsedSeconds, m_jobSeconds);
    switch (outcome.status) {
    case JobOutcome::Status::Succeeded:
        setState(tr("%1 finished in %2.").arg(outcome.jobName, formatDuration(seconds)));
        m_eta->setValue(formatDuration(0));
        break;
    case JobOutcome::Status::Cancelled:
        setState(tr("%1 was cancelled after %2.").arg(outcome.jobName, formatDuration(seconds)));
        m_eta->setValue(QStringLiteral("–")); // nothing is left to wait for
        break;
    case JobOutcome::Status::Failed:
        setState(tr("%1 failed: %2").arg(outcome.jobName, outcome.message));
        m_eta->setValue(QStringLiteral("–"));
        break;
    }
    m_activity.clear();
    updateButtons();
}

void RunPage::onPausedChanged(bool paused)
{
    if (paused)
        setState(tr("Paused: the job holds after its current step. Resume continues it."));
    else if (m_controller->isRunning() && !m_controller->isCancelling())
        setState(m_activity.isEmpty() ? tr("Running: %1").arg(m_controller->currentJobName()) : m_activity);
    updateButtons();
}

void RunPage::setActivity(std::optional<core::Stage> stage)
{
    const QString activity = stageActivity(stage);
    if (activity.isEmpty() || activity == m_activity || !m_controller->isRunning())
        return;
    m_activity = activity;
    // Pausing and cancelling say so themselves until the job acts on them.
    if (!m_controller->isPaused() && !m_controller->isCancelling())
        setState(m_activity);
    Q_EMIT activityChanged(m_activity);
}

void RunPage::setJobProcesses(const QStringList &devices)
{
    m_jobProcesses = devices;
    m_memoryPlot->setProcessNames(devices);
    const bool several = devices.size() > 1;
    m_pause->setToolTip(several
                            ? tr("A job of several processes cannot pause: the others would stop waiting for "
                                 "it. Cancel it instead; Start resumes from its last checkpoint.")
                            : tr("Hold the job after its current step; memory stays allocated."));
    m_throughput->setToolTip(
        several ? tr("Tokens per second of the whole job, its %1 processes together.").arg(devices.size())
                : QString());
    m_peak->setToolTip(several ? tr("The largest peak of the job's processes.") : QString());
    updateButtons();
}

void RunPage::updateButtons()
{
    const bool running = m_controller->isRunning();
    const bool paused = m_controller->isPaused();
    const bool cancelling = m_controller->isCancelling();
    m_start->setEnabled(!running && m_startAvailable);
    m_pause->setEnabled(running && !paused && !cancelling && m_jobProcesses.size() <= 1);
    m_resume->setEnabled(running && paused && !cancelling);
    m_cancel->setEnabled(running && !cancelling);
}

void RunPage::setState(const QString &text)
{
    m_state->setText(text);
}

void RunPage::updateElapsed()
{
    if (m_jobSeconds >= 0 && m_sinceSample.isValid()) {
        const double ticking = m_controller->isRunning() && !m_controller->isPaused()
                                   ? static_cast<double>(m_sinceSample.elapsed()) / 1000.0
                                   : 0.0;
        m_elapsed->setValue(formatDuration(m_jobSeconds + ticking));
    } else if (m_runClock.isValid()) {
        m_elapsed->setValue(formatDuration(static_cast<double>(m_runClock.elapsed()) / 1000.0));
    }
}

} // namespace emloc::ui
