#pragma once

#include "emloc/api/device.h"

#include <QDialog>

namespace emloc::ui {

// Product, version and the versions of the libraries it runs on (Qt, LibTorch, CUDA, QCustomPlot),
// selectable so they can be pasted into a bug report. The engine's versions come from whoever plugged
// the engine in (MainWindow::setBuildInfo): the widgets do not link LibTorch.
class AboutDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AboutDialog(const core::BuildInfo &info, QWidget *parent = nullptr);

    // The versions as plain text, one "name: version" per line.
    QString versionsText() const { return m_versions; }

private:
    QString m_versions;
};

} // namespace emloc::ui
