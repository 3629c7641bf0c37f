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

// A run's "device": one device, or several GPUs of this machine ("cuda:0,1" or "cuda:0,cuda:1"), one
// process each (a data-parallel job). Throws Error naming the value: a list holds GPUs only, each once.
std::vector<DeviceSpec> parseDeviceList(const std::string &text);
// The list "cuda:0,1" for these GPUs (one: "cuda:N").
std::string gpuListDevice(const std::vector<int> &indices);

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
