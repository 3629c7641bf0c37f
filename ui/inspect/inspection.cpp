#include "inspect/inspection.h"

#include <QCoreApplication>

namespace emloc::ui {

QString datasetFormatName(const QString &format)
{
    const char *context = "emloc::ui::DatasetInspector";
    if (format == QLatin1String("messages"))
        return QCoreApplication::translate(context, "chat (messages)");
    if (format == QLatin1String("sharegpt"))
        return QCoreApplication::translate(context, "chat (ShareGPT conversations)");
    if (format == QLatin1String("prompt-completion"))
        return QCoreApplication::translate(context, "prompt and completion");
    if (format == QLatin1String("alpaca"))
        return QCoreApplication::translate(context, "instruction and output");
    if (format == QLatin1String("text"))
        return QCoreApplication::translate(context, "plain text");
    return format.isEmpty() ? QCoreApplication::translate(context, "unknown") : format;
}

} // namespace emloc::ui
