#pragma once

#include <QDialog>

namespace emloc::ui {

// Product, version and the versions of the libraries it runs on (Qt, LibTorch, CUDA, QCustomPlot),
// selectable so they can be pasted into a bug report.
class AboutDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AboutDialog(QWidget *parent = nullptr);

    // The versions as plain text, one "name: version" per line.
    QString versionsText() const { return m_versions; }

private:
    QString m_versions;
};

} // namespace emloc::ui
