#include "widgets/loss_plot.h"

#include "emloc/api/stages.h"

#include <algorithm>
#include <optional>

namespace emloc::ui {

namespace {
// Half the smoothing window: about 1/40 of the run's steps, so a short run is barely smoothed and a long
// one loses its step-to-step noise.
constexpr qint64 kStepsPerHalfWindow = 40;
constexpr int kMaxHalfWindow = 25;
} // namespace

LossPlot::LossPlot(QWidget *parent) : Plot(tr("Step"), tr("Loss"), parent)
{
    setObjectName(QStringLiteral("lossPlot"));

    m_train = addGraph();
    m_train->setName(tr("Training"));
    m_train->setPen(QPen(QColor(99, 102, 241, 90), 1.2));

    m_smoothed = addGraph();
    m_smoothed->setName(tr("Training (smoothed)"));
    m_smoothed->setPen(QPen(QColor(0x4f, 0x46, 0xe5), 2.2));

    m_validation = addGraph();
    m_validation->setName(tr("Validation"));
    m_validation->setPen(QPen(QColor(0xea, 0x58, 0x0c), 2.0));
    m_validation->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(0xea, 0x58, 0x0c), Qt::white, 7));

    legend->setVisible(true);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    xAxis->setRange(0, 10);
    yAxis->setRange(0, 1);
}

void LossPlot::appendSamples(const std::vector<core::MetricSample> &samples)
{
    QVector<double> steps, losses, validationSteps, validationLosses;
    for (const core::MetricSample &sample : samples) {
        // Only training counts optimizer steps: the emulator's layers must not stretch the step axis.
        const std::optional<core::Stage> stage = core::stageFromKey(sample.stage);
        const bool trainingStage = stage == core::Stage::Train;
        if (trainingStage)
            m_totalSteps = std::max<qint64>(m_totalSteps, sample.totalSteps);
        if (trainingStage && sample.loss >= 0) {
            steps << static_cast<double>(sample.step);
            losses << sample.loss;
        }
        if (sample.validationLoss >= 0 && stage == core::Stage::Validate) { // training's only
            validationSteps << static_cast<double>(sample.step);
            validationLosses << sample.validationLoss;
        }
    }
    if (steps.isEmpty() && validationSteps.isEmpty())
        return;
    ++m_appendedBatches;
    m_train->addData(steps, losses, true);
    m_steps += steps;
    m_losses += losses;
    if (!steps.isEmpty())
        updateSmoothed();
    m_validation->addData(validationSteps, validationLosses, true);

    bool found = false;
    QCPRange valueRange = m_train->getValueRange(found);
    bool foundValidation = false;
    const QCPRange validationRange = m_validation->getValueRange(foundValidation);
    if (foundValidation)
        valueRange = found ? QCPRange(std::min(valueRange.lower, validationRange.lower),
                                      std::max(valueRange.upper, validationRange.upper))
                           : validationRange;
    const double span = std::max(valueRange.size(), 1e-3);
    yAxis->setRange(std::max(0.0, valueRange.lower - 0.08 * span), valueRange.upper + 0.08 * span);

    bool foundKeys = false;
    const QCPRange keyRange = m_train->getKeyRange(foundKeys);
    const double lastStep = foundKeys ? keyRange.upper : 0;
    xAxis->setRange(0, std::max<double>({10.0, static_cast<double>(m_totalSteps), lastStep}));
    refresh();
}

void LossPlot::clearData()
{
    m_train->data()->clear();
    m_smoothed->data()->clear();
    m_validation->data()->clear();
    m_steps.clear();
    m_losses.clear();
    m_totalSteps = 0;
    xAxis->setRange(0, 10);
    yAxis->setRange(0, 1);
    refresh();
}

QVector<double> LossPlot::smoothedLosses() const
{
    QVector<double> values;
    values.reserve(m_smoothed->dataCount());
    for (auto it = m_smoothed->data()->constBegin(); it != m_smoothed->data()->constEnd(); ++it)
        values << it->value;
    return values;
}

void LossPlot::updateSmoothed()
{
    // Recomputed whole from prefix sums (new points change the tail's windows): O(points) per batch.
    const int count = static_cast<int>(m_losses.size());
    const int halfWindow =
        static_cast<int>(std::clamp<qint64>(m_totalSteps / kStepsPerHalfWindow, 1, kMaxHalfWindow));
    QVector<double> prefix(count + 1, 0.0);
    for (int i = 0; i < count; ++i)
        prefix[i + 1] = prefix[i] + m_losses[i];
    QVector<double> smoothed(count);
    for (int i = 0; i < count; ++i) {
        // Symmetric around i: near the ends the window narrows rather than leaning to one side.
        const int half = std::min({halfWindow, i, count - 1 - i});
        smoothed[i] = (prefix[i + half + 1] - prefix[i - half]) / (2 * half + 1);
    }
    m_smoothed->setData(m_steps, smoothed, true);
}

int LossPlot::trainPointCount() const
{
    return m_train->dataCount();
}

int LossPlot::validationPointCount() const
{
    return m_validation->dataCount();
}

} // namespace emloc::ui
