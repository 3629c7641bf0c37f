#pragma once

#include <QWidget>

class QLabel;

namespace emloc::ui {

// An icon and a sentence under a field: what is right or wrong with its value.
class ValidationLabel : public QWidget
{
    Q_OBJECT

public:
    enum class State { None, Ok, Info, Warning, Error };

    explicit ValidationLabel(QWidget *parent = nullptr);

    void setMessage(State state, const QString &text);
    void clear() { setMessage(State::None, {}); }
    State state() const { return m_state; }
    QString text() const;

private:
    QLabel *m_icon = nullptr;
    QLabel *m_text = nullptr;
    State m_state = State::None;
};

} // namespace emloc::ui
