#pragma once
// Devices as a person chooses them, torch-free: the Studio's widgets list them without LibTorch.

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

// Versions for the About dialog and `--version`; buildInfo() (emloc/util/torch_runtime.h) fills it.
struct BuildInfo
{
    std::string emlocVersion;
    std::string libtorchVersion;
    std::string cudaVersion; // "" without CUDA code paths
    bool cudaCompiled = false;
    bool cudaAvailable = false;
};

} // namespace emloc::core
