#pragma once

#include "project/dataset_stats.h"
#include "widgets/plot.h"

namespace emloc::ui {

// Token lengths of the training records as bars, with the maximum length (where truncation starts) as
// a dashed line.
class LengthHistogram : public Plot
{
    Q_OBJECT

public:
    explicit LengthHistogram(QWidget *parent = nullptr);

    void setStats(const DatasetStats &stats);
    int barCount() const;

private:
    QCPBars *m_bars = nullptr;
    QCPItemStraightLine *m_cutoff = nullptr;
    QCPItemText *m_cutoffLabel = nullptr;
};

} // namespace emloc::ui
