#include "widgets/stat_card.h"

#include <QLabel>
#include <QVBoxLayout>

namespace emloc::ui {

StatCard::StatCard(const QString &caption, QWidget *parent) : QFrame(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 8, 12, 8);
    layout->setSpacing(0);
    auto *captionLabel = new QLabel(caption, this);
    captionLabel->setObjectName(QStringLiteral("statCaption"));
    m_value = new QLabel(QStringLiteral("–"), this);
    m_value->setObjectName(QStringLiteral("statValue"));
    m_value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(captionLabel);
    layout->addWidget(m_value);
    setAccessibleName(caption);
}

void StatCard::setValue(const QString &value)
{
    m_value->setText(value);
    setAccessibleDescription(value);
}

QString StatCard::value() const
{
    return m_value->text();
}

} // namespace emloc::ui
