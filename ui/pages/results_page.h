#pragma once

#include "jobs/job_updates.h"
#include "jobs/run_record.h"
#include "jobs/run_summary.h"
#include "widgets/page.h"

#include <vector>

class QGroupBox;
class QJsonObject;
class QLabel;
class QPushButton;
class QStackedWidget;
class QTreeWidget;

namespace emloc::ui {

class ChatPanel;
class StatCard;

// The outcome of the last run: final and best losses, peak memory, throughput, per-stage times,
// and the metrics as CSV.
class ResultsPage : public Page
{
    Q_OBJECT

public:
    explicit ResultsPage(QWidget *parent = nullptr);

    // `history`: the training folder's metrics file (summarizeRun), for the steps before a resume.
    void setRun(const JobOutcome &outcome, const std::vector<core::MetricSample> &samples,
                const std::vector<core::MetricSample> &history = {});
    // The pipeline's summary.json: the held-out comparison of the original, the emulator + LoRA, the
    // uncorrected and the corrected model, and which examples it ran on. An empty object hides the table.
    void setEvaluation(const QJsonObject &summary);
    // The folder's last run as the engine recorded it: its stages (measured and planned peaks, reused or
    // not) replace the table made from samples, and when this session watched no run, its training's
    // losses fill the cards. An empty record clears a record shown before, never a watched run.
    void setRecord(const RunRecord &record);
    bool showsRecord() const { return m_showingRecord; }
    QTreeWidget *evaluationTable() const { return m_evaluation; }
    QLabel *evaluationSource() const { return m_evaluationSource; }
    ChatPanel *chatPanel() const { return m_chat; }
    void clear();
    bool hasResults() const { return m_hasResults; }
    const RunSummary &summary() const { return m_summary; }
    QTreeWidget *stageTable() const { return m_stages; }

    // Writes the metrics; shows an error dialog on failure. Returns whether it was written.
    bool saveMetrics(const QString &path);

private:
    void chooseCsvPath();
    void showSummaryCards(double seconds);
    void fitStageTable();

    QStackedWidget *m_stack = nullptr;
    QLabel *m_outcomeIcon = nullptr;
    QLabel *m_outcome = nullptr;
    QPushButton *m_saveCsv = nullptr;
    StatCard *m_loss = nullptr;
    StatCard *m_validation = nullptr;
    StatCard *m_peak = nullptr;
    StatCard *m_throughput = nullptr;
    StatCard *m_duration = nullptr;
    StatCard *m_steps = nullptr;
    QTreeWidget *m_stages = nullptr;
    QGroupBox *m_evaluationBox = nullptr;
    QTreeWidget *m_evaluation = nullptr;
    QLabel *m_evaluationSource = nullptr;
    ChatPanel *m_chat = nullptr;
    bool m_hasResults = false;
    bool m_showingRecord = false; // the results are a recorded run's, not one watched live
    RunSummary m_summary;
    std::vector<core::MetricSample> m_samples;
};

} // namespace emloc::ui
