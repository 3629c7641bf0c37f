#include "device_ids.h"

#include "emloc/api/device.h"

namespace emloc::ui {

QStringList deviceIds(const QString &device)
{
    QStringList ids;
    try {
        for (const core::DeviceSpec &spec : core::parseDeviceList(device.toStdString()))
            ids << QString::fromStdString(spec.toString());
    } catch (const std::exception &) {
        return {};
    }
    return ids;
}

} // namespace emloc::ui
