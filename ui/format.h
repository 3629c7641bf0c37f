#pragma once

#include <QString>

namespace emloc::ui {

// "1.5 GiB", "312 MiB" in the user's locale.
QString formatBytes(qint64 bytes);
// "42 s", "3 min 05 s", "2 h 07 min".
QString formatDuration(double seconds);
// Loss values and the like: 4 significant digits.
QString formatNumber(double value, int significantDigits = 4);

} // namespace emloc::ui
