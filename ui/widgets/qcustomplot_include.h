#pragma once

// QCustomPlot's header uses Qt's `signals` and `foreach` keywords, which QT_NO_KEYWORDS (needed
// because LibTorch headers use those names) removes; map them to their Q_ forms for this header only.
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef foreach
