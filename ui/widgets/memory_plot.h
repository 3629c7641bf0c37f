#pragma once

#include "emloc/api/job.h"

#include "widgets/plot.h"

#include <vector>

namespace emloc::ui {

// Memory in use over the job's elapsed time, with the user's budget as a dashed line and the peak
// marked. Values are GiB. A job of several processes (one per GPU) draws each one's memory as its own
// line, named by setProcessNames() (else "Rank N"), with a legend; the peak is the largest process's.
class MemoryPlot : public Plot
{
    Q_OBJECT

public:
    explicit MemoryPlot(QWidget *parent = nullptr);

    // <= 0 hides the budget line.
    void setBudgetBytes(qint64 bytes);
    qint64 budgetBytes() const { return m_budgetBytes; }
    void appendSamples(const std::vector<core::MetricSample> &samples);
    void clearData();
    // What each process of a job of several runs on ("cuda:0", "cuda:1"), by rank.
    void setProcessNames(const QStringList &names);

    int pointCount() const;
    // Lines drawn: 1, or one per process.
    int lineCount() const { return 1 + static_cast<int>(m_ranks.size()); }
    qint64 peakBytes() const { return m_peakBytes; }
    bool budgetLineVisible() const;
    // Where the peak's label was last drawn, in pixels; inside axisRect()->rect() when it fits at all.
    QRectF peakLabelRect() const;
    QString peakLabelText() const;

private:
    void updateRanges();
    void updateMarkers();
    void placePeakLabel();
    void addRankLines(int processes);
    QString processName(int rank) const;

    QCPGraph *m_memory = nullptr;    // rank 0's, the only one of a single process
    std::vector<QCPGraph *> m_ranks; // ranks 1.. of a job of several processes
    QStringList m_processNames;
    QCPItemStraightLine *m_budgetLine = nullptr;
    QCPItemText *m_budgetLabel = nullptr;
    QCPItemTracer *m_peakMarker = nullptr;
    QCPItemText *m_peakLabel = nullptr;
    qint64 m_budgetBytes = 0;
    qint64 m_peakBytes = -1;
    double m_peakTime = 0;
    double m_lastTime = 0;
};

} // namespace emloc::ui
