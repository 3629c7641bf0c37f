#include "widgets/page.h"

#include <QLabel>
#include <QScrollArea>
#include <QVBoxLayout>

namespace emloc::ui {

Page::Page(const QString &title, const QString &subtitle, Scrolling scrolling, QWidget *parent)
    : QWidget(parent)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);

    auto *header = new QWidget(this);
    auto *headerLayout = new QVBoxLayout(header);
    headerLayout->setContentsMargins(24, 18, 24, 10);
    headerLayout->setSpacing(2);
    m_title = new QLabel(title, header);
    m_title->setObjectName(QStringLiteral("pageTitle"));
    auto *subtitleLabel = new QLabel(subtitle, header);
    subtitleLabel->setObjectName(QStringLiteral("pageSubtitle"));
    subtitleLabel->setWordWrap(true);
    headerLayout->addWidget(m_title);
    headerLayout->addWidget(subtitleLabel);
    outer->addWidget(header);

    auto *content = new QWidget;
    content->setObjectName(QStringLiteral("pageContent"));
    m_content = new QVBoxLayout(content);
    m_content->setContentsMargins(24, 4, 24, 18);
    m_content->setSpacing(12);

    if (scrolling == Scrolling::Vertical) {
        auto *scroll = new QScrollArea(this);
        scroll->setObjectName(QStringLiteral("pageScroll"));
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        scroll->setWidget(content);
        scroll->viewport()->setAutoFillBackground(false);
        outer->addWidget(scroll, 1);
    } else {
        content->setParent(this);
        outer->addWidget(content, 1);
    }
}

QString Page::title() const
{
    return m_title->text();
}

} // namespace emloc::ui
