#pragma once

#include <QWidget>

class QLabel;
class QVBoxLayout;

namespace emloc::ui {

// The frame of every page: a title, a one-line explanation and the content below, optionally in a
// scroll area so small screens and large fonts never clip a form.
class Page : public QWidget
{
    Q_OBJECT

public:
    enum class Scrolling { None, Vertical };

    Page(const QString &title, const QString &subtitle, Scrolling scrolling, QWidget *parent = nullptr);

    QString title() const;
    QVBoxLayout *contentLayout() const { return m_content; }

private:
    QLabel *m_title = nullptr;
    QVBoxLayout *m_content = nullptr;
};

} // namespace emloc::ui
