#include "widgets/plot.h"

namespace emloc::ui {

Plot::Plot(const QString &xLabel, const QString &yLabel, QWidget *parent) : QCustomPlot(parent)
{
    const QColor text(0x47, 0x55, 0x69);
    const QColor axis(0xcb, 0xd5, 0xe1);
    const QColor grid(0xe2, 0xe8, 0xf0);
    const QFont normal = font();
    QFont small = normal;
    small.setPointSizeF(normal.pointSizeF() * 0.9);

    setBackground(Qt::white);
    setAntialiasedElements(QCP::aeAll);
    setNotAntialiasedElements(QCP::aeAxes | QCP::aeGrid);
    setMinimumHeight(180);
    xAxis2->setVisible(false);
    yAxis2->setVisible(false);
    for (QCPAxis *axisItem : {xAxis, yAxis}) {
        axisItem->setBasePen(QPen(axis));
        axisItem->setTickPen(QPen(axis));
        axisItem->setSubTickPen(Qt::NoPen);
        axisItem->setTickLabelColor(text);
        axisItem->setTickLabelFont(small);
        axisItem->setLabelColor(text);
        axisItem->setLabelFont(normal);
        axisItem->grid()->setPen(QPen(grid, 1, Qt::SolidLine));
        axisItem->grid()->setZeroLinePen(QPen(grid, 1, Qt::SolidLine));
    }
    xAxis->setLabel(xLabel);
    yAxis->setLabel(yLabel);
    legend->setBrush(QColor(255, 255, 255, 220));
    legend->setBorderPen(QPen(grid));
    legend->setFont(small);
    legend->setTextColor(text);
    legend->setIconSize(18, 10);
}

void Plot::showEvent(QShowEvent *event)
{
    QCustomPlot::showEvent(event);
    replot(QCustomPlot::rpQueuedReplot);
}

void Plot::resizeEvent(QResizeEvent *event)
{
    if (isVisible()) {
        QCustomPlot::resizeEvent(event);
        return;
    }
    QWidget::resizeEvent(event);
    setViewport(rect());
}

void Plot::refresh()
{
    if (isVisible())
        replot(QCustomPlot::rpQueuedReplot);
}

} // namespace emloc::ui
