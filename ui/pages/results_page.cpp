#include "pages/results_page.h"

#include "error_dialog.h"
#include "format.h"
#include "widgets/chat_panel.h"
#include "widgets/stat_card.h"

#include <QDir>
#include <QFileDialog>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStackedWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "emloc/api/stages.h"

#include <algorithm>
#include <optional>

namespace emloc::ui {

namespace {
QString stageName(core::Stage stage)
{
    switch (stage) {
    case core::Stage::Calibrate:
        return ResultsPage::tr("Calibration");
    case core::Stage::Build:
        return ResultsPage::tr("Emulator construction");
    case core::Stage::Train:
        return ResultsPage::tr("Fine-tuning");
    case core::Stage::Validate:
        return ResultsPage::tr("Validation");
    case core::Stage::Correct:
        return ResultsPage::tr("LoRA correction");
    case core::Stage::Refine:
        return ResultsPage::tr("Refinement of the last layers");
    case core::Stage::Evaluate:
        return ResultsPage::tr("Evaluation");
    case core::Stage::Emulator:
        return ResultsPage::tr("Emulator (calibration and construction)");
    case core::Stage::Export:
        return ResultsPage::tr("Export");
    default:
        return QString::fromLatin1(core::stageKey(stage).data(), qsizetype(core::stageKey(stage).size()));
    }
}

// A metric sample's stage; a label the engine's vocabulary does not have is shown as it is.
QString stageName(const QString &key)
{
    const std::optional<core::Stage> stage = core::stageFromKey(key.toStdString());
    return stage ? stageName(*stage) : key;
}

constexpr int kEvaluationColumns = 6;

// "12 / 32 (38 %)" from a count and a rate of the evaluation JSON; "–" when the rate is null or absent
// (nothing generated, or a summary written before the engine counted it).
QString countAndRate(const QJsonObject &model, const char *count, const char *rate)
{
    const QJsonValue value = model.value(QLatin1String(rate));
    if (!value.isDouble())
        return QStringLiteral("–");
    return ResultsPage::tr("%1 / %2 (%3 %)")
        .arg(QLocale().toString(model.value(QLatin1String(count)).toInteger()),
             QLocale().toString(model.value(QStringLiteral("generated")).toInteger()),
             QLocale().toString(100.0 * value.toDouble(), 'f', 0));
}

QString metricTitle(const QString &metric)
{
    if (metric == QLatin1String("exact"))
        return ResultsPage::tr("Exact match");
    if (metric == QLatin1String("contains"))
        return ResultsPage::tr("Contains the reference");
    return metric.isEmpty() ? ResultsPage::tr("Match") : metric;
}
} // namespace

ResultsPage::ResultsPage(QWidget *parent)
    : Page(tr("Results"), tr("How the last run went: losses, memory and time, stage by stage."),
           Scrolling::Vertical, parent)
{
    setObjectName(QStringLiteral("resultsPage"));
    m_stack = new QStackedWidget(this);
    contentLayout()->addWidget(m_stack, 1);

    auto *empty = new QFrame(m_stack);
    empty->setObjectName(QStringLiteral("emptyState"));
    auto *emptyLayout = new QVBoxLayout(empty);
    emptyLayout->setContentsMargins(40, 60, 40, 60);
    auto *emptyIcon = new QLabel(empty);
    emptyIcon->setPixmap(QIcon(QStringLiteral(":/icons/nav-results.svg")).pixmap(48, 48));
    emptyIcon->setAlignment(Qt::AlignCenter);
    auto *emptyTitle = new QLabel(tr("No results yet"), empty);
    emptyTitle->setObjectName(QStringLiteral("emptyTitle"));
    emptyTitle->setAlignment(Qt::AlignCenter);
    auto *emptyText = new QLabel(tr("Start a run on the Run page. When it ends, its losses, peak memory and "
                                    "timings appear here."),
                                 empty);
    emptyText->setObjectName(QStringLiteral("hint"));
    emptyText->setAlignment(Qt::AlignCenter);
    emptyText->setWordWrap(true);
    emptyLayout->addStretch(1);
    emptyLayout->addWidget(emptyIcon);
    emptyLayout->addWidget(emptyTitle);
    emptyLayout->addWidget(emptyText);
    emptyLayout->addStretch(2);
    m_stack->addWidget(empty);

    auto *content = new QWidget(m_stack);
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);

    auto *outcomeRow = new QHBoxLayout;
    m_outcomeIcon = new QLabel(content);
    m_outcome = new QLabel(content);
    m_outcome->setObjectName(QStringLiteral("outcome"));
    m_outcome->setWordWrap(true);
    m_outcome->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_saveCsv =
        new QPushButton(QIcon(QStringLiteral(":/icons/download.svg")), tr("Save &Metrics as CSV…"), content);
    m_saveCsv->setToolTip(
        tr("Every sample of the run (loss, learning rate, memory, throughput) as a CSV table."));
    outcomeRow->addWidget(m_outcomeIcon);
    outcomeRow->addWidget(m_outcome, 1);
    outcomeRow->addWidget(m_saveCsv);
    layout->addLayout(outcomeRow);

    auto *cards = new QGridLayout;
    cards->setSpacing(10);
    m_loss = new StatCard(tr("Training loss (first → last)"), content);
    m_validation = new StatCard(tr("Best validation loss"), content);
    m_peak = new StatCard(tr("Peak memory"), content);
    m_throughput = new StatCard(tr("Mean tokens/s"), content);
    m_duration = new StatCard(tr("Duration"), content);
    m_steps = new StatCard(tr("Optimizer steps"), content);
    m_loss->setObjectName(QStringLiteral("lossCard"));
    m_validation->setObjectName(QStringLiteral("validationCard"));
    m_peak->setObjectName(QStringLiteral("peakCard"));
    int index = 0;
    for (StatCard *card : {m_loss, m_validation, m_peak, m_throughput, m_duration, m_steps}) {
        cards->addWidget(card, index / 3, index % 3);
        ++index;
    }
    layout->addLayout(cards);

    auto *stagesBox = new QGroupBox(tr("Stages"), content);
    auto *stagesLayout = new QVBoxLayout(stagesBox);
    m_stages = new QTreeWidget(stagesBox);
    m_stages->setObjectName(QStringLiteral("stageTable"));
    m_stages->setHeaderLabels(
        {tr("Stage"), tr("Duration"), tr("Peak memory"), tr("Planned peak"), tr("Note")});
    m_stages->headerItem()->setToolTip(
        3, tr("The planner's prediction for the stage, the figure a memory budget is held to."));
    m_stages->setRootIsDecorated(false);
    m_stages->setAlternatingRowColors(true);
    m_stages->header()->setSectionResizeMode(QHeaderView::Stretch);
    for (int column = 1; column < 4; ++column)
        m_stages->headerItem()->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
    stagesLayout->addWidget(m_stages);
    layout->addWidget(stagesBox);

    m_evaluationBox = new QGroupBox(tr("Held-out evaluation"), content);
    auto *evaluationLayout = new QVBoxLayout(m_evaluationBox);
    m_evaluationSource = new QLabel(m_evaluationBox);
    m_evaluationSource->setObjectName(QStringLiteral("evaluationSource"));
    m_evaluationSource->setWordWrap(true);
    m_evaluationSource->setTextInteractionFlags(Qt::TextSelectableByMouse);
    evaluationLayout->addWidget(m_evaluationSource);
    m_evaluation = new QTreeWidget(m_evaluationBox);
    m_evaluation->setObjectName(QStringLiteral("evaluationTable"));
    m_evaluation->setHeaderLabels(
        {tr("Model"), tr("Loss"), tr("Perplexity"), tr("Match"), tr("Stopped by itself"), tr("Peak memory")});
    m_evaluation->headerItem()->setToolTip(
        4, tr("Answers that ended on the model's end token, not at the length limit."));
    m_evaluation->setRootIsDecorated(false);
    m_evaluation->setAlternatingRowColors(true);
    m_evaluation->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_evaluation->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_evaluation->header()->setStretchLastSection(false);
    m_evaluation->setMaximumHeight(m_evaluation->fontMetrics().height() * 9); // four models and the header
    for (int column = 1; column < kEvaluationColumns; ++column)
        m_evaluation->headerItem()->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
    evaluationLayout->addWidget(m_evaluation);
    layout->addWidget(m_evaluationBox);
    m_evaluationBox->hide();

    auto *chatBox = new QGroupBox(tr("Try it"), content);
    auto *chatLayout = new QVBoxLayout(chatBox);
    m_chat = new ChatPanel(chatBox);
    chatLayout->addWidget(m_chat);
    layout->addWidget(chatBox);
    layout->addStretch(1);
    m_stack->addWidget(content);

    connect(m_saveCsv, &QPushButton::clicked, this, &ResultsPage::chooseCsvPath);
    clear();
}

void ResultsPage::setEvaluation(const QJsonObject &summary)
{
    m_evaluation->clear();
    const QJsonObject evaluation = summary.value(QStringLiteral("evaluation")).toObject();
    const QJsonArray models = evaluation.value(QStringLiteral("models")).toArray();
    m_evaluationBox->setVisible(!models.isEmpty());
    m_evaluation->headerItem()->setText(3,
                                        metricTitle(evaluation.value(QStringLiteral("metric")).toString()));
    // A held-out share of the training data reads differently from a separate test file: say which.
    const QString source = evaluation.value(QStringLiteral("source")).toString();
    m_evaluationSource->setText(tr("Examples: %1").arg(source.isEmpty() ? QStringLiteral("–") : source));
    const QMap<QString, QString> titles{{QStringLiteral("original"), tr("Original (no fine-tuning)")},
                                        {QStringLiteral("emulator+lora"), tr("Emulator + LoRA")},
                                        {QStringLiteral("original+lora"), tr("Original + LoRA, uncorrected")},
                                        {QStringLiteral("original+corrected"),
                                         // What the run ships: refined on the original by default, corrected
                                         // only when refinement was off or did not fit the budget.
                                         evaluation.value(QStringLiteral("corrected_refined")).toBool()
                                             ? tr("Original + LoRA, corrected and refined (EMLoC)")
                                             : tr("Original + LoRA, corrected (EMLoC)")}};
    for (const QJsonValue &value : models) {
        const QJsonObject model = value.toObject();
        const QString name = model.value(QStringLiteral("name")).toString();
        auto *row = new QTreeWidgetItem(m_evaluation);
        row->setText(0, titles.value(name, name));
        row->setText(1, formatNumber(model.value(QStringLiteral("loss")).toDouble()));
        row->setText(2, formatNumber(model.value(QStringLiteral("perplexity")).toDouble()));
        row->setText(3, countAndRate(model, "matched", "match_rate"));
        row->setText(4, countAndRate(model, "stopped", "stop_rate"));
        row->setText(5, formatBytes(qint64(model.value(QStringLiteral("peak_memory_bytes")).toDouble(-1))));
        for (int column = 1; column < kEvaluationColumns; ++column)
            row->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
        if (name == QLatin1String("original+corrected")) {
            QFont bold = row->font(0);
            bold.setBold(true);
            for (int column = 0; column < kEvaluationColumns; ++column)
                row->setFont(column, bold);
        }
    }
}

void ResultsPage::setRun(const JobOutcome &outcome, const std::vector<core::MetricSample> &samples,
                         const std::vector<core::MetricSample> &history)
{
    m_samples = samples;
    m_summary = summarizeRun(samples, history);
    m_hasResults = true;
    m_showingRecord = false;
    // The job's clock when it reported one; the wall clock of the worker otherwise.
    const double seconds = std::max(outcome.elapsedSeconds, m_summary.elapsedSeconds);
    m_stack->setCurrentIndex(1);

    const char *icon = ":/icons/status-ok.svg";
    switch (outcome.status) {
    case JobOutcome::Status::Succeeded:
        m_outcome->setText(tr("<b>%1 succeeded</b> in %2.").arg(outcome.jobName, formatDuration(seconds)));
        break;
    case JobOutcome::Status::Cancelled:
        icon = ":/icons/status-warning.svg";
        m_outcome->setText(tr("<b>%1 was cancelled</b> after %2; the numbers cover the part that ran.")
                               .arg(outcome.jobName, formatDuration(seconds)));
        break;
    case JobOutcome::Status::Failed:
        icon = ":/icons/status-error.svg";
        m_outcome->setText(
            tr("<b>%1 failed</b> after %2: %3")
                .arg(outcome.jobName, formatDuration(seconds), outcome.message.toHtmlEscaped()));
        break;
    }
    const int size = fontMetrics().height() * 3 / 2;
    m_outcomeIcon->setPixmap(QIcon(QString::fromLatin1(icon)).pixmap(size, size));

    showSummaryCards(seconds);
    m_stages->clear();
    for (const RunSummary::StageSummary &stage : m_summary.stages) {
        // Only training counts optimizer steps (the emulator's samples count layers).
        const std::optional<core::Stage> known = core::stageFromKey(stage.stage.toStdString());
        const bool training = known == core::Stage::Train || known == core::Stage::Refine;
        const QString note = training && stage.lastStep > 0
                                 ? tr("to step %1").arg(QLocale().toString(stage.lastStep))
                                 : QString();
        auto *item = new QTreeWidgetItem(m_stages, {stageName(stage.stage), formatDuration(stage.seconds),
                                                    formatBytes(stage.peakBytes), QStringLiteral("–"), note});
        for (int column = 1; column < 4; ++column)
            item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
    }
    fitStageTable();
    m_saveCsv->setEnabled(!samples.empty());
}

void ResultsPage::setRecord(const RunRecord &record)
{
    if (!record.finishedRun()) {
        if (m_showingRecord)
            clear();
        return;
    }
    if (!m_hasResults || m_showingRecord) { // no run watched: the record is the last run
        m_showingRecord = true;
        m_hasResults = true;
        m_samples = record.trainingMetrics;
        m_summary = summarizeRun(record.trainingMetrics);
        double seconds = 0;
        for (const RunRecord::StageReport &stage : record.stages) {
            seconds += stage.seconds;
            m_summary.peakBytes = std::max(m_summary.peakBytes, stage.peakBytes);
        }
        m_stack->setCurrentIndex(1);
        const int size = fontMetrics().height() * 3 / 2;
        m_outcomeIcon->setPixmap(QIcon(QStringLiteral(":/icons/status-ok.svg")).pixmap(size, size));
        m_outcome->setText(tr("<b>The last run in this folder</b> finished on %1, at emulator ratio %2. Its "
                              "stages took %3 in all.")
                               .arg(QLocale().toString(record.finished, QLocale::ShortFormat),
                                    QLocale().toString(record.ratio, 'f', 2), formatDuration(seconds)));
        showSummaryCards(seconds);
        m_saveCsv->setEnabled(!m_samples.empty());
    }
    m_stages->clear();
    for (const RunRecord::StageReport &stage : record.stages) {
        // A measured peak above the plan is the budget's guarantee failing: say so where it shows.
        const bool abovePlan = stage.plannedPeakBytes > 0 && stage.peakBytes > stage.plannedPeakBytes;
        QStringList notes;
        if (stage.reused)
            notes << tr("reused");
        if (abovePlan)
            notes << tr("above the plan");
        auto *item = new QTreeWidgetItem(
            m_stages,
            {stageName(stage.stage), formatDuration(stage.seconds), formatBytes(stage.peakBytes),
             stage.plannedPeakBytes >= 0 ? formatBytes(stage.plannedPeakBytes) : QStringLiteral("–"),
             notes.join(QStringLiteral(", "))});
        for (int column = 1; column < 4; ++column)
            item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
        QStringList why;
        if (stage.reused)
            why << tr("Made by an earlier run from the same inputs and settings; its time and peak are that "
                      "run's.");
        if (abovePlan) {
            item->setIcon(4, QIcon(QStringLiteral(":/icons/status-warning.svg")));
            why << tr(
                "The measured peak is above the planner's prediction, which a memory budget relies on.");
        }
        item->setToolTip(4, why.join(QLatin1Char('\n')));
    }
    fitStageTable();
}

void ResultsPage::showSummaryCards(double seconds)
{
    const RunSummary &s = m_summary;
    m_loss->setValue(s.firstTrainingLoss >= 0 ? tr("%1 → %2").arg(formatNumber(s.firstTrainingLoss),
                                                                  formatNumber(s.finalTrainingLoss))
                                              : QStringLiteral("–"));
    m_validation->setValue(s.bestValidationLoss >= 0 ? tr("%1 at step %2")
                                                           .arg(formatNumber(s.bestValidationLoss),
                                                                QLocale().toString(s.bestValidationStep))
                                                     : QStringLiteral("–"));
    m_peak->setValue(formatBytes(s.peakBytes));
    m_throughput->setValue(s.meanTokensPerSecond >= 0 ? QLocale().toString(s.meanTokensPerSecond, 'f', 0)
                                                      : QStringLiteral("–"));
    m_duration->setValue(formatDuration(seconds));
    m_steps->setValue(QLocale().toString(s.trainingSteps));
}

void ResultsPage::fitStageTable()
{
    // Tall enough for every stage, no more: the page scrolls, the table does not.
    const int rows = std::max(1, m_stages->topLevelItemCount());
    const int rowHeight = m_stages->topLevelItemCount() > 0
                              ? m_stages->visualItemRect(m_stages->topLevelItem(0)).height()
                              : fontMetrics().height() + 8;
    m_stages->setFixedHeight(m_stages->header()->sizeHint().height() +
                             rows * std::max(rowHeight, fontMetrics().height() + 6) +
                             2 * m_stages->frameWidth() + 4);
}

void ResultsPage::clear()
{
    m_hasResults = false;
    m_showingRecord = false;
    m_samples.clear();
    m_summary = {};
    m_evaluation->clear();
    m_evaluationBox->hide();
    m_stack->setCurrentIndex(0);
}

bool ResultsPage::saveMetrics(const QString &path)
{
    QString error;
    if (writeMetricsCsv(path, m_samples, &error))
        return true;
    showError(this, tr("The metrics were not saved."), tr("%1 Choose another folder.").arg(error));
    return false;
}

void ResultsPage::chooseCsvPath()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Metrics"),
                                                      QDir::home().filePath(QStringLiteral("metrics.csv")),
                                                      tr("CSV tables (*.csv)"));
    if (!path.isEmpty())
        saveMetrics(path);
}

} // namespace emloc::ui
