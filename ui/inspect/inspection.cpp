#include "inspect/inspection.h"

#include <QCoreApplication>

namespace emloc::ui {

QString datasetFormatName(const QString &format)
{
    if (format == QLatin1String("messages"))
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "chat (messages)");
    if (format == QLatin1String("sharegpt"))
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "chat (ShareGPT conversations)");
    if (format == QLatin1String("prompt-completion"))
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "prompt and completion");
    if (format == QLatin1String("alpaca"))
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "instruction and output");
    if (format == QLatin1String("text"))
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "plain text");
    return format.isEmpty() ? QCoreApplication::translate("emloc::ui::DatasetInspector", "unknown") : format;
}

} // namespace emloc::ui
