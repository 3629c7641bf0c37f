#include "widgets/validation_label.h"

#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QStyle>

namespace emloc::ui {

ValidationLabel::ValidationLabel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 2, 0, 2);
    layout->setSpacing(6);
    m_icon = new QLabel(this);
    m_text = new QLabel(this);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_icon, 0, Qt::AlignTop);
    layout->addWidget(m_text, 1);
    setVisible(false);
}

void ValidationLabel::setMessage(State state, const QString &text)
{
    m_state = state;
    m_text->setText(text);
    const char *icon = nullptr;
    switch (state) {
    case State::None:
        break;
    case State::Ok:
        icon = ":/icons/status-ok.svg";
        break;
    case State::Info:
        icon = ":/icons/status-info.svg";
        break;
    case State::Warning:
        icon = ":/icons/status-warning.svg";
        break;
    case State::Error:
        icon = ":/icons/status-error.svg";
        break;
    }
    const int size = fontMetrics().height();
    m_icon->setPixmap(icon ? QIcon(QString::fromLatin1(icon)).pixmap(size, size) : QPixmap());
    m_icon->setFixedSize(size, size);
    setVisible(state != State::None && !text.isEmpty());
}

QString ValidationLabel::text() const
{
    return m_text->text();
}

} // namespace emloc::ui
