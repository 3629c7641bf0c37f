#pragma once

#include "emloc/api/job.h"

#include "widgets/plot.h"

#include <vector>

namespace emloc::ui {

// Memory in use over the job's elapsed time, with the user's budget as a dashed line and the peak
// marked. Values are GiB.
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

    int pointCount() const;
    qint64 peakBytes() const { return m_peakBytes; }
    bool budgetLineVisible() const;
    // Where the peak's label was last drawn, in pixels; inside axisRect()->rect() when it fits at all.
    QRectF peakLabelRect() const;
    QString peakLabelText() const;

private:
    void updateRanges();
    void updateMarkers();
    void placePeakLabel();

    QCPGraph *m_memory = nullptr;
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
