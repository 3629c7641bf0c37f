#include "widgets/length_histogram.h"

#include <algorithm>

namespace emloc::ui {

namespace {
const QColor kCutoffColor(0xdc, 0x26, 0x26);
}

LengthHistogram::LengthHistogram(QWidget *parent) : Plot(tr("Tokens per record"), tr("Records"), parent)
{
    setObjectName(QStringLiteral("lengthHistogram"));
    m_bars = new QCPBars(xAxis, yAxis);
    m_bars->setPen(QPen(QColor(0x08, 0x91, 0xb2)));
    m_bars->setBrush(QColor(0x08, 0x91, 0xb2, 120));
    m_cutoff = new QCPItemStraightLine(this);
    m_cutoff->setPen(QPen(kCutoffColor, 1.6, Qt::DashLine));
    m_cutoffLabel = new QCPItemText(this);
    m_cutoffLabel->setColor(kCutoffColor);
    m_cutoffLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
    m_cutoffLabel->position->setTypeX(QCPItemPosition::ptPlotCoords);
    m_cutoffLabel->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    m_cutoffLabel->setPadding(QMargins(0, 4, 4, 0));
    legend->setVisible(false);
    setStats({});
}

void LengthHistogram::setStats(const DatasetStats &stats)
{
    QVector<double> centres, counts;
    double width = 1, right = 1, top = 1;
    const auto &edges = stats.histogramEdges;
    for (size_t i = 0; i + 1 < edges.size() && i < stats.histogramCounts.size(); ++i) {
        centres.push_back(0.5 * double(edges[i] + edges[i + 1]));
        counts.push_back(double(stats.histogramCounts[i]));
        width = double(edges[i + 1] - edges[i]);
        right = double(edges[i + 1]);
        top = std::max(top, counts.back());
    }
    m_bars->setWidth(width * 0.9);
    m_bars->setData(centres, counts, true);
    const bool cutoff = stats.maxLengthOption > 0 && !centres.isEmpty();
    m_cutoff->setVisible(cutoff);
    m_cutoffLabel->setVisible(cutoff);
    if (cutoff) {
        const double x = double(stats.maxLengthOption);
        m_cutoff->point1->setCoords(x, 0);
        m_cutoff->point2->setCoords(x, 1);
        m_cutoffLabel->position->setCoords(x, 0);
        m_cutoffLabel->setText(tr("max length %1").arg(stats.maxLengthOption));
        right = std::max(right, x * 1.05);
    }
    const double left = edges.empty() ? 0 : double(edges.front());
    xAxis->setRange(std::max(0.0, left - width), right + width);
    yAxis->setRange(0, top * 1.2);
    refresh();
}

int LengthHistogram::barCount() const
{
    return m_bars->dataCount();
}

} // namespace emloc::ui
