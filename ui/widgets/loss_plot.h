#pragma once

#include "emloc/job.h"

#include "widgets/plot.h"

#include <vector>

namespace emloc::ui {

// Training loss (raw and smoothed) and validation loss against the optimizer step. Receives whole
// batches of samples and replots once per batch.
class LossPlot : public Plot
{
    Q_OBJECT

public:
    explicit LossPlot(QWidget *parent = nullptr);

    void appendSamples(const std::vector<core::MetricSample> &samples);
    void clearData();

    int trainPointCount() const;
    int validationPointCount() const;
    int appendedBatches() const { return m_appendedBatches; }

private:
    QCPGraph *m_train = nullptr;
    QCPGraph *m_smoothed = nullptr;
    QCPGraph *m_validation = nullptr;
    double m_ema = 0;
    bool m_haveEma = false;
    qint64 m_totalSteps = 0;
    int m_appendedBatches = 0;
};

} // namespace emloc::ui
