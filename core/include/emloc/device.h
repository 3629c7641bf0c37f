#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

// A parsed "--device" value: "cpu", "cuda" (= cuda:0) or "cuda:N".
struct DeviceSpec
{
    bool isCuda = false;
    int index = 0;
    std::string toString() const;
};

// Throws Error naming the value and the accepted forms.
DeviceSpec parseDevice(const std::string &text);

// A device the user can run on, with its memory (host RAM for the CPU).
struct DeviceInfo
{
    std::string id;   // "cpu", "cuda:0"
    std::string name; // "CPU (16 threads)", "NVIDIA GeForce RTX 4090"
    int64_t totalBytes = 0;
    int64_t freeBytes = 0;
};

std::vector<DeviceInfo> listDevices();

// Throws Error when a CUDA device is asked for and none is there.
void requireDevice(const DeviceSpec &spec);

// LibTorch's intra-op threads; n <= 0 means defaultThreadCount() (OMP_NUM_THREADS, else the usable
// cores). LibTorch's own default counts the host's cores, which oversubscribes a CPU quota.
void configureThreads(int n);
int threadCount();

// Versions for the About dialog and `--version`.
struct BuildInfo
{
    std::string emlocVersion;
    std::string libtorchVersion;
    std::string cudaVersion; // "" without CUDA code paths
    bool cudaCompiled = false;
    bool cudaAvailable = false;
};
BuildInfo buildInfo();

} // namespace emloc::core
