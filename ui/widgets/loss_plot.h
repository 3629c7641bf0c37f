#pragma once

#include "emloc/api/job.h"

#include "widgets/plot.h"

#include <vector>

namespace emloc::ui {

// Training loss (raw and smoothed) and validation loss against the optimizer step. Receives whole
// batches of samples and replots once per batch. The smoothed curve is a centred moving average whose
// window narrows towards both ends, so it follows the raw curve without lagging behind it.
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

    // The raw training curve as plotted, and the smoothed one (same steps).
    QVector<double> trainLosses() const { return m_losses; }
    QVector<double> smoothedLosses() const;

private:
    void updateSmoothed();

    QCPGraph *m_train = nullptr;
    QCPGraph *m_smoothed = nullptr;
    QCPGraph *m_validation = nullptr;
    QVector<double> m_steps;
    QVector<double> m_losses;
    qint64 m_totalSteps = 0; // of the training stage
    int m_appendedBatches = 0;
};

} // namespace emloc::ui
