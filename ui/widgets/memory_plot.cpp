#include "widgets/memory_plot.h"

#include "format.h"

#include <algorithm>

namespace emloc::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
const QColor kBudgetColor(0xdc, 0x26, 0x26);
const QColor kPeakColor(0x0f, 0x17, 0x2a);
constexpr double kPeakLabelGap = 8; // pixels between the peak's marker and its label
// Ranks 1.. (rank 0 keeps the single process's teal).
const QColor kRankColors[] = {QColor(0xd9, 0x77, 0x06), QColor(0x7c, 0x3a, 0xed), QColor(0x16, 0xa3, 0x4a),
                              QColor(0xdb, 0x27, 0x77), QColor(0x25, 0x63, 0xeb), QColor(0x65, 0xa3, 0x0d),
                              QColor(0x9f, 0x12, 0x39)};
} // namespace

MemoryPlot::MemoryPlot(QWidget *parent) : Plot(tr("Elapsed time"), tr("Memory (GiB)"), parent)
{
    setObjectName(QStringLiteral("memoryPlot"));

    m_memory = addGraph();
    m_memory->setName(tr("In use"));
    m_memory->setPen(QPen(QColor(0x08, 0x91, 0xb2), 2.0));
    m_memory->setBrush(QColor(0x08, 0x91, 0xb2, 40));

    auto ticker = QSharedPointer<QCPAxisTickerTime>::create();
    ticker->setTimeFormat(QStringLiteral("%m:%s"));
    xAxis->setTicker(ticker);

    m_budgetLine = new QCPItemStraightLine(this);
    m_budgetLine->setPen(QPen(kBudgetColor, 1.6, Qt::DashLine));
    m_budgetLabel = new QCPItemText(this);
    m_budgetLabel->setColor(kBudgetColor);
    m_budgetLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    m_budgetLabel->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_budgetLabel->position->setTypeY(QCPItemPosition::ptPlotCoords);
    m_budgetLabel->setPadding(QMargins(0, 0, 4, 2));

    m_peakMarker = new QCPItemTracer(this);
    m_peakMarker->setStyle(QCPItemTracer::tsCircle);
    m_peakMarker->setSize(9);
    m_peakMarker->setPen(QPen(kPeakColor, 1.6));
    m_peakMarker->setBrush(Qt::white);
    m_peakLabel = new QCPItemText(this);
    m_peakLabel->setColor(kPeakColor);
    m_peakLabel->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
    m_peakLabel->position->setParentAnchor(m_peakMarker->position);
    m_peakLabel->position->setCoords(0, -kPeakLabelGap);
    m_peakLabel->setPadding(QMargins(2, 0, 2, 0));
    QFont bold = font();
    bold.setBold(true);
    m_peakLabel->setFont(bold);

    legend->setVisible(false);
    xAxis->setRange(0, 60);
    yAxis->setRange(0, 1);
    updateMarkers();
    // The label's side is chosen in pixels once the axes are laid out, right before each draw.
    connect(this, &QCustomPlot::afterLayout, this, &MemoryPlot::placePeakLabel);
}

void MemoryPlot::setBudgetBytes(qint64 bytes)
{
    m_budgetBytes = std::max<qint64>(0, bytes);
    updateMarkers();
    updateRanges();
    refresh();
}

void MemoryPlot::appendSamples(const std::vector<core::MetricSample> &samples)
{
    QVector<double> times, values;
    std::vector<QVector<double>> rankTimes, rankValues; // ranks 1..
    bool sorted = true;
    double previous = m_lastTime;
    for (const core::MetricSample &sample : samples) {
        qint64 peak = std::max(sample.peakMemoryBytes, sample.memoryBytes);
        for (const int64_t bytes : sample.rankMemoryBytes)
            peak = std::max<qint64>(peak, bytes);
        if (peak > m_peakBytes) {
            m_peakBytes = peak;
            m_peakTime = sample.elapsedSeconds;
        }
        if (sample.rankMemoryBytes.size() > 1) {
            addRankLines(static_cast<int>(sample.rankMemoryBytes.size()));
            rankTimes.resize(m_ranks.size());
            rankValues.resize(m_ranks.size());
            for (size_t rank = 1; rank < sample.rankMemoryBytes.size(); ++rank) {
                rankTimes[rank - 1] << sample.elapsedSeconds;
                rankValues[rank - 1] << static_cast<double>(sample.rankMemoryBytes[rank]) / kGiB;
            }
        }
        if (sample.memoryBytes < 0)
            continue;
        sorted = sorted && sample.elapsedSeconds >= previous;
        previous = sample.elapsedSeconds;
        times << sample.elapsedSeconds;
        values << static_cast<double>(sample.memoryBytes) / kGiB;
    }
    if (times.isEmpty() && m_peakBytes < 0)
        return;
    m_memory->addData(times, values, sorted);
    for (size_t i = 0; i < rankTimes.size(); ++i)
        m_ranks[i]->addData(rankTimes[i], rankValues[i], sorted);
    m_lastTime = std::max(m_lastTime, previous);
    updateMarkers();
    updateRanges();
    refresh();
}

void MemoryPlot::setProcessNames(const QStringList &names)
{
    m_processNames = names;
    if (!m_ranks.empty())
        m_memory->setName(processName(0));
    for (size_t i = 0; i < m_ranks.size(); ++i)
        m_ranks[i]->setName(processName(static_cast<int>(i) + 1));
}

QString MemoryPlot::processName(int rank) const
{
    return rank < m_processNames.size() ? m_processNames[rank] : tr("Rank %1").arg(rank);
}

void MemoryPlot::addRankLines(int processes)
{
    while (lineCount() < processes) {
        QCPGraph *line = addGraph();
        const QColor color = kRankColors[m_ranks.size() % std::size(kRankColors)];
        line->setPen(QPen(color, 2.0));
        m_ranks.push_back(line);
        line->setName(processName(static_cast<int>(m_ranks.size())));
    }
    m_memory->setName(processName(0));
    legend->setVisible(true);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignTop);
}

void MemoryPlot::clearData()
{
    m_memory->data()->clear();
    for (QCPGraph *line : m_ranks)
        removeGraph(line);
    m_ranks.clear();
    m_memory->setName(tr("In use"));
    legend->setVisible(false);
    m_peakBytes = -1;
    m_peakTime = 0;
    m_lastTime = 0;
    updateMarkers();
    updateRanges();
    refresh();
}

int MemoryPlot::pointCount() const
{
    return m_memory->dataCount();
}

bool MemoryPlot::budgetLineVisible() const
{
    return m_budgetLine->visible();
}

void MemoryPlot::updateMarkers()
{
    const bool haveBudget = m_budgetBytes > 0;
    const double budget = static_cast<double>(m_budgetBytes) / kGiB;
    m_budgetLine->setVisible(haveBudget);
    m_budgetLabel->setVisible(haveBudget);
    m_budgetLine->point1->setCoords(0, budget);
    m_budgetLine->point2->setCoords(1, budget);
    m_budgetLabel->setText(tr("Budget %1").arg(formatBytes(m_budgetBytes)));

    const bool havePeak = m_peakBytes >= 0;
    m_peakMarker->setVisible(havePeak);
    m_peakLabel->setVisible(havePeak);
    m_peakMarker->position->setCoords(m_peakTime, static_cast<double>(m_peakBytes) / kGiB);
    m_peakLabel->setText(tr("Peak %1").arg(formatBytes(m_peakBytes)));
    const double end = std::max(60.0, m_lastTime * 1.05);
    const double position = m_peakTime / end;
    // The budget label sits at the end of its line away from the peak, so the two never overlap when the
    // peak comes close to the budget.
    const bool peakOnTheRight = havePeak && position > 0.5;
    m_budgetLabel->position->setCoords(peakOnTheRight ? 0.0 : 1.0, budget);
    m_budgetLabel->setPositionAlignment((peakOnTheRight ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignBottom);
    m_budgetLabel->setPadding(peakOnTheRight ? QMargins(4, 0, 0, 2) : QMargins(0, 0, 4, 2));
}

void MemoryPlot::placePeakLabel()
{
    if (!m_peakLabel->visible())
        return;
    // Decided by the label's width in pixels, not by where the peak falls in time: a narrow plot cut
    // "Peak 1,021.7 MiB" to "ak 1,021.7 MiB" when the peak was near its left edge.
    const QRect area = axisRect()->rect();
    const QFontMetricsF metrics(m_peakLabel->font());
    const QMargins padding = m_peakLabel->padding();
    const double width = metrics.horizontalAdvance(m_peakLabel->text()) + padding.left() + padding.right();
    const double height = metrics.height() + padding.top() + padding.bottom();
    const double x = xAxis->coordToPixel(m_peakTime);
    const double y = yAxis->coordToPixel(static_cast<double>(m_peakBytes) / kGiB);
    Qt::Alignment horizontal = Qt::AlignHCenter;
    if (x - width / 2 < area.left())
        horizontal = Qt::AlignLeft;
    else if (x + width / 2 > area.right())
        horizontal = Qt::AlignRight;
    const bool above = y - kPeakLabelGap - height >= area.top();
    m_peakLabel->position->setCoords(0, above ? -kPeakLabelGap : kPeakLabelGap);
    m_peakLabel->setPositionAlignment(horizontal | (above ? Qt::AlignBottom : Qt::AlignTop));
}

QRectF MemoryPlot::peakLabelRect() const
{
    return QRectF(m_peakLabel->topLeft->pixelPosition(), m_peakLabel->bottomRight->pixelPosition());
}

QString MemoryPlot::peakLabelText() const
{
    return m_peakLabel->text();
}

void MemoryPlot::updateRanges()
{
    const double top =
        std::max({static_cast<double>(m_budgetBytes), static_cast<double>(m_peakBytes), 0.0}) / kGiB;
    yAxis->setRange(0, top > 0 ? top * 1.2 : 1.0);
    const double end = std::max(60.0, m_lastTime * 1.05);
    auto ticker = qSharedPointerCast<QCPAxisTickerTime>(xAxis->ticker());
    if (ticker)
        ticker->setTimeFormat(end >= 3600 ? QStringLiteral("%h:%m:%s") : QStringLiteral("%m:%s"));
    xAxis->setRange(0, end);
}

} // namespace emloc::ui
