#include "widgets/scientific_spin_box.h"

#include <QLocale>

#include <cmath>

namespace emloc::ui {

ScientificSpinBox::ScientificSpinBox(QWidget *parent) : QDoubleSpinBox(parent)
{
    setDecimals(12); // QDoubleSpinBox rounds values to `decimals`; the text is ours
    setRange(1e-8, 1.0);
}

void ScientificSpinBox::stepBy(int steps)
{
    setValue(value() * std::pow(2.0, steps));
}

QString ScientificSpinBox::textFromValue(double value) const
{
    if (value == 0)
        return QStringLiteral("0");
    const int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
    if (exponent >= -2 && exponent <= 3)
        return QLocale::c().toString(value, 'g', 6);
    const double mantissa = value / std::pow(10.0, exponent);
    QString text = QLocale::c().toString(mantissa, 'g', 4);
    return text + QStringLiteral("e") + QString::number(exponent);
}

double ScientificSpinBox::valueFromText(const QString &text) const
{
    return QLocale::c().toDouble(text.trimmed());
}

QValidator::State ScientificSpinBox::validate(QString &text, int &) const
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty() || trimmed.endsWith(QLatin1Char('e'), Qt::CaseInsensitive) ||
        trimmed.endsWith(QLatin1Char('-')) || trimmed.endsWith(QLatin1Char('.')))
        return QValidator::Intermediate;
    bool ok = false;
    const double value = QLocale::c().toDouble(trimmed, &ok);
    if (!ok)
        return QValidator::Invalid;
    return value >= minimum() && value <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
}

} // namespace emloc::ui
