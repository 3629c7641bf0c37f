#include "emloc/util/memory.h"

#include "emloc/api/device.h"

#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#ifdef EMLOC_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>
#endif

namespace emloc::core {

namespace {
int64_t statusFieldKiB(const char *field)
{
    std::ifstream status("/proc/self/status");
    std::string line;
    const std::string prefix = std::string(field) + ":";
    while (std::getline(status, line)) {
        if (line.rfind(prefix, 0) == 0) {
            std::istringstream in(line.substr(prefix.size()));
            int64_t kib = 0;
            in >> kib;
            return kib;
        }
    }
    return 0;
}
} // namespace

MemoryReading processRss()
{
    return {statusFieldKiB("VmRSS") * 1024, statusFieldKiB("VmHWM") * 1024};
}

bool resetPeakRss()
{
    // "5" resets the peak RSS (Linux >= 4.0).
    std::FILE *file = std::fopen("/proc/self/clear_refs", "w");
    if (!file)
        return false;
    bool ok = std::fputs("5", file) >= 0;
    ok = (std::fclose(file) == 0) && ok;
    return ok;
}

MemoryReading cudaAllocator(int deviceIndex)
{
#ifdef EMLOC_HAVE_CUDA
    if (deviceIndex >= 0 && torch::cuda::is_available()) {
        auto stats =
            c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(deviceIndex));
        const auto &allocated =
            stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)];
        return {allocated.current, allocated.peak};
    }
#else
    (void)deviceIndex;
#endif
    return {};
}

void resetCudaPeak(int deviceIndex)
{
#ifdef EMLOC_HAVE_CUDA
    if (deviceIndex >= 0 && torch::cuda::is_available())
        c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(deviceIndex));
#else
    (void)deviceIndex;
#endif
}

MemoryMeter::MemoryMeter(const std::string &device)
{
    DeviceSpec spec = parseDevice(device);
    m_cudaIndex = spec.isCuda ? spec.index : -1;
}

void releaseFreedMemory()
{
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

void MemoryMeter::reset()
{
    if (m_cudaIndex >= 0)
        resetCudaPeak(m_cudaIndex);
    else {
        // Memory freed by earlier work stays in glibc's heaps (and in RSS) until trimmed; without this a
        // stage's peak would include what the stage before it left behind.
        releaseFreedMemory();
        resetPeakRss();
    }
}

MemoryReading MemoryMeter::read() const
{
    return m_cudaIndex >= 0 ? cudaAllocator(m_cudaIndex) : processRss();
}

std::string formatBytes(int64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

} // namespace emloc::core
