#include "widgets/tradeoff_plot.h"

#include <QFontMetrics>
#include <QLocale>

#include <algorithm>

namespace emloc::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
const QColor kBudgetColor(0xdc, 0x26, 0x26);
const QColor kRatioColor(0x0f, 0x17, 0x2a);

QCPGraph *addCurve(QCustomPlot *plot, const QString &name, const QColor &color, Qt::PenStyle style)
{
    QCPGraph *graph = plot->addGraph();
    graph->setName(name);
    graph->setPen(QPen(color, 2.0, style));
    return graph;
}
} // namespace

TradeOffPlot::TradeOffPlot(QWidget *parent)
    : Plot(tr("Compression ratio (share of each layer kept)"), tr("Peak memory (GiB)"), parent)
{
    setObjectName(QStringLiteral("tradeOffPlot"));
    m_fineTuning =
        addCurve(this, tr("Stage 2: LoRA on the emulator"), QColor(0x08, 0x91, 0xb2), Qt::SolidLine);
    m_construction =
        addCurve(this, tr("Stage 1: build the emulator"), QColor(0x7c, 0x3a, 0xed), Qt::SolidLine);
    m_correction = addCurve(this, tr("Stage 3: correct the LoRA"), QColor(0x16, 0xa3, 0x4a), Qt::SolidLine);
    m_inference =
        addCurve(this, tr("Inference of the original model"), QColor(0x64, 0x74, 0x8b), Qt::DotLine);
    m_retainedEnergy = addGraph(xAxis, yAxis2);
    m_retainedEnergy->setName(tr("Activation energy kept, after calibration (right axis)"));
    m_retainedEnergy->setPen(QPen(QColor(0xd9, 0x77, 0x06), 2.0, Qt::DashLine));
    m_retainedEnergy->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    yAxis2->setLabel(tr("Energy kept (%)"));

    m_budgetLine = new QCPItemStraightLine(this);
    m_budgetLine->setPen(QPen(kBudgetColor, 1.6, Qt::DashLine));
    m_ratioLine = new QCPItemStraightLine(this);
    m_ratioLine->setPen(QPen(kRatioColor, 1.2, Qt::DashDotLine));
    m_ratioLabel = new QCPItemText(this);
    m_ratioLabel->setColor(kRatioColor);
    m_ratioLabel->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_ratioLabel->position->setTypeX(QCPItemPosition::ptPlotCoords);
    m_ratioLabel->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_ratioLabel->setPadding(QMargins(4, 4, 0, 0));

    // The legend goes under the plot, in columns: inside it would hide the energy curve near the top.
    legend->setVisible(true);
    axisRect()->insetLayout()->take(legend);
    auto *legendRow = new QCPLayoutGrid;
    plotLayout()->addElement(1, 0, legendRow);
    legendRow->setMargins(QMargins(6, 0, 6, 10));
    legendRow->addElement(0, 0, legend);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(3);
    legend->setBorderPen(Qt::NoPen);
    // Two rows of entries: QCustomPlot's size hint of a wrapped legend can come out a few pixels short.
    legendRow->setMinimumSize(0, QFontMetrics(legend->font()).height() * 2 + 18);
    plotLayout()->setRowStretchFactor(1, 0.001);
    xAxis->setRange(0, 1);
    yAxis->setRange(0, 1);
    setPreview({});
    setRetainedEnergy({}, {});
}

void TradeOffPlot::setRetainedEnergy(const QVector<double> &ratios, const QVector<double> &retained)
{
    QVector<double> percent;
    for (double value : retained)
        percent.push_back(100.0 * value);
    m_retainedEnergy->setData(ratios, percent, true);
    const bool shown = !percent.isEmpty();
    m_retainedEnergy->setVisible(shown);
    if (shown)
        m_retainedEnergy->addToLegend();
    else
        m_retainedEnergy->removeFromLegend();
    yAxis2->setVisible(shown);
    if (shown) {
        // Activation-aware SVD keeps most of the energy even at small ratios: zoom to the range in use.
        const auto [low, high] = std::minmax_element(percent.begin(), percent.end());
        const double span = std::max(0.01, *high - *low);
        yAxis2->setRange(*low - 0.6 * span, std::min(100.0 + 0.05 * span, *high + 0.1 * span));
    }
    refresh();
}

int TradeOffPlot::retainedEnergyPointCount() const
{
    return m_retainedEnergy->visible() ? m_retainedEnergy->dataCount() : 0;
}

void TradeOffPlot::setPreview(const PlanPreview &preview)
{
    QVector<double> ratios, construction, fineTuning, correction, inference;
    double top = 0;
    for (const PlanPoint &point : preview.curve) {
        ratios.push_back(point.ratio);
        construction.push_back(point.constructionBytes / kGiB);
        fineTuning.push_back(point.fineTuningBytes / kGiB);
        correction.push_back(point.correctionBytes / kGiB);
        inference.push_back(point.inferenceBytes / kGiB);
        top = std::max({top, construction.back(), fineTuning.back(), correction.back(), inference.back()});
    }
    m_construction->setData(ratios, construction, true);
    m_fineTuning->setData(ratios, fineTuning, true);
    m_correction->setData(ratios, correction, true);
    m_inference->setData(ratios, inference, true);

    const bool budget = preview.budgetBytes > 0;
    m_budgetLine->setVisible(budget);
    if (budget) {
        const double y = preview.budgetBytes / kGiB;
        m_budgetLine->point1->setCoords(0, y);
        m_budgetLine->point2->setCoords(1, y);
        top = std::max(top, y);
    }
    const bool marked = preview.ratio > 0 && !preview.curve.empty();
    m_ratioLine->setVisible(marked);
    m_ratioLabel->setVisible(marked);
    if (marked) {
        m_ratioLine->point1->setCoords(preview.ratio, 0);
        m_ratioLine->point2->setCoords(preview.ratio, 1);
        m_ratioLabel->position->setCoords(preview.ratio, 0);
        m_ratioLabel->setText(tr("ratio %1").arg(QLocale().toString(preview.ratio, 'f', 2)));
        // Near the right edge the label goes to the left of its line, so it is not clipped.
        const bool leftOfLine = preview.ratio > 0.8;
        m_ratioLabel->setPositionAlignment((leftOfLine ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignTop);
        m_ratioLabel->setPadding(leftOfLine ? QMargins(0, 4, 4, 0) : QMargins(4, 4, 0, 0));
    }
    xAxis->setRange(0, 1.02);
    yAxis->setRange(0, std::max(0.1, top * 1.15));
    refresh();
}

int TradeOffPlot::pointCount() const
{
    return m_fineTuning->dataCount();
}

bool TradeOffPlot::ratioMarkerVisible() const
{
    return m_ratioLine->visible();
}

} // namespace emloc::ui
