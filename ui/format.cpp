#include "format.h"

#include <QCoreApplication>
#include <QLocale>

#include <cmath>

namespace emloc::ui {

QString formatBytes(qint64 bytes)
{
    if (bytes < 0)
        return QStringLiteral("–");
    return QLocale().formattedDataSize(bytes, bytes >= (qint64(1) << 30) ? 2 : 1, QLocale::DataSizeIecFormat);
}

QString formatDuration(double seconds)
{
    if (!(seconds >= 0) || std::isinf(seconds))
        return QStringLiteral("–");
    const qint64 total = static_cast<qint64>(std::llround(seconds));
    const qint64 hours = total / 3600;
    const qint64 minutes = (total % 3600) / 60;
    const qint64 secs = total % 60;
    if (hours > 0)
        return QCoreApplication::translate("emloc::ui::Format", "%1 h %2 min")
            .arg(hours)
            .arg(minutes, 2, 10, QLatin1Char('0'));
    if (minutes > 0)
        return QCoreApplication::translate("emloc::ui::Format", "%1 min %2 s")
            .arg(minutes)
            .arg(secs, 2, 10, QLatin1Char('0'));
    return QCoreApplication::translate("emloc::ui::Format", "%1 s").arg(secs);
}

QString formatNumber(double value, int significantDigits)
{
    if (!std::isfinite(value))
        return QStringLiteral("–");
    return QLocale().toString(value, 'g', significantDigits);
}

} // namespace emloc::ui
