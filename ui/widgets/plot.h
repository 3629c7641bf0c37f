#pragma once

#include "widgets/qcustomplot_include.h"

namespace emloc::ui {

// The application's plots: one look (light grid, no top/right axes, the application's font), and
// no drawing while hidden. A hidden plot, e.g. on a page that is not shown, has no paint buffer to
// draw into; it replots when it is shown.
class Plot : public QCustomPlot
{
    Q_OBJECT

public:
    Plot(const QString &xLabel, const QString &yLabel, QWidget *parent = nullptr);

protected:
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    // Replots at the next event-loop turn when visible.
    void refresh();
};

} // namespace emloc::ui
