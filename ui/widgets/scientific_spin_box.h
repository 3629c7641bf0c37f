#pragma once

#include <QDoubleSpinBox>

namespace emloc::ui {

// A spin box for values like learning rates: shows "2e-4" instead of "0.000200" and steps by a
// factor (×2 / ÷2 by default) instead of a fixed amount.
class ScientificSpinBox : public QDoubleSpinBox
{
    Q_OBJECT

public:
    explicit ScientificSpinBox(QWidget *parent = nullptr);

    void stepBy(int steps) override;
    QString textFromValue(double value) const override;
    double valueFromText(const QString &text) const override;
    QValidator::State validate(QString &text, int &position) const override;
};

} // namespace emloc::ui
