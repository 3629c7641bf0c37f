#pragma once

#include <QFrame>

class QLabel;

namespace emloc::ui {

// A caption above a large value ("Tokens/s", "1 234").
class StatCard : public QFrame
{
    Q_OBJECT

public:
    explicit StatCard(const QString &caption, QWidget *parent = nullptr);

    void setValue(const QString &value);
    QString value() const;

private:
    QLabel *m_value = nullptr;
};

} // namespace emloc::ui
