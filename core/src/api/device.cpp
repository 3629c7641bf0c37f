#include "emloc/api/device.h"
#include "emloc/api/cpu_count.h"

#include "emloc/api/error.h"

#include <fstream>
#include <unistd.h>

#ifdef EMLOC_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace emloc::core {

namespace {
int64_t meminfoKiB(const char *field)
{
    std::ifstream in("/proc/meminfo");
    std::string key;
    int64_t value = 0;
    std::string unit;
    while (in >> key >> value >> unit) {
        if (key == std::string(field) + ":")
            return value;
    }
    return 0;
}
} // namespace

std::vector<DeviceInfo> listDevices()
{
    std::vector<DeviceInfo> devices;
    devices.push_back({"cpu", "CPU (" + std::to_string(usableCpuCount()) + " usable cores)",
                       meminfoKiB("MemTotal") * 1024, meminfoKiB("MemAvailable") * 1024});
#ifdef EMLOC_HAVE_CUDA
    int count = 0;
    if (cudaGetDeviceCount(&count) == cudaSuccess) {
        for (int i = 0; i < count; ++i) {
            cudaDeviceProp props{};
            size_t freeBytes = 0, totalBytes = 0;
            if (cudaGetDeviceProperties(&props, i) != cudaSuccess)
                continue;
            if (cudaSetDevice(i) == cudaSuccess)
                cudaMemGetInfo(&freeBytes, &totalBytes);
            devices.push_back({"cuda:" + std::to_string(i), props.name, static_cast<int64_t>(totalBytes),
                               static_cast<int64_t>(freeBytes)});
        }
    }
#endif
    return devices;
}

} // namespace emloc::core
