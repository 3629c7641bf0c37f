#pragma once

#include "project/plan_preview.h"
#include "widgets/plot.h"

namespace emloc::ui {

// The trade-off preview: predicted peak memory of stages 1-3 against the compression ratio, inference
// of the original model for reference, the budget as a dashed line and the chosen ratio marked.
class TradeOffPlot : public Plot
{
    Q_OBJECT

public:
    explicit TradeOffPlot(QWidget *parent = nullptr);

    void setPreview(const PlanPreview &preview);
    // After a run's calibration: the share of the activation-weighted energy the emulator keeps at each
    // ratio (emulator.json's energy_curve), as percent on the right axis. Empty hides it.
    void setRetainedEnergy(const QVector<double> &ratios, const QVector<double> &retained);
    int pointCount() const;
    int retainedEnergyPointCount() const;
    bool ratioMarkerVisible() const;

private:
    QCPGraph *m_construction = nullptr;
    QCPGraph *m_fineTuning = nullptr;
    QCPGraph *m_correction = nullptr;
    QCPGraph *m_inference = nullptr;
    QCPGraph *m_retainedEnergy = nullptr;
    QCPItemStraightLine *m_budgetLine = nullptr;
    QCPItemStraightLine *m_ratioLine = nullptr;
    QCPItemText *m_ratioLabel = nullptr;
};

} // namespace emloc::ui
