// Devices as a run names them, torch- and CUDA-free: the CLI's launcher reads a job's devices too.
#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/api/parse_number.h"

#include <algorithm>

namespace emloc::core {

std::string DeviceSpec::toString() const
{
    return isCuda ? "cuda:" + std::to_string(index) : "cpu";
}

DeviceSpec parseDevice(const std::string &text)
{
    if (text == "cpu")
        return {};
    if (text == "cuda")
        return {true, 0};
    if (text.rfind("cuda:", 0) == 0) {
        const auto index = parseInt64(std::string_view(text).substr(5));
        if (index && *index >= 0 && *index < 1024)
            return {true, static_cast<int>(*index)};
    }
    throw Error("Unknown device '" + text + "': use cpu, cuda or cuda:N (N = 0, 1, ...)");
}

std::vector<DeviceSpec> parseDeviceList(const std::string &text)
{
    if (text.find(',') == std::string::npos)
        return {parseDevice(text)};
    std::vector<DeviceSpec> devices;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, comma - start);
        if (!item.empty() && item.find_first_not_of("0123456789") == std::string::npos)
            item = "cuda:" + item; // "cuda:0,1": the later items are bare indices
        if (item.rfind("cuda:", 0) != 0)
            throw Error("Device list '" + text + "': list GPUs only, e.g. cuda:0,1 (one process per GPU)");
        const DeviceSpec device = parseDevice(item);
        for (const DeviceSpec &seen : devices)
            if (seen.index == device.index)
                throw Error("Device list '" + text + "' names " + device.toString() + " twice");
        devices.push_back(device);
        start = comma + 1;
    }
    return devices;
}

std::string gpuListDevice(const std::vector<int> &indices)
{
    std::string text = "cuda:";
    for (size_t i = 0; i < indices.size(); ++i)
        text += (i ? "," : "") + std::to_string(indices[i]);
    return text;
}

} // namespace emloc::core
