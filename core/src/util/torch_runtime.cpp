#include "emloc/util/torch_runtime.h"

#include "emloc/api/cpu_count.h"
#include "emloc/api/error.h"
#include "emloc/api/version.h"

#include <torch/torch.h>
#include <torch/version.h>

#ifdef EMLOC_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace emloc::core {

void requireDevice(const DeviceSpec &spec)
{
    if (!spec.isCuda)
        return;
    if (!torch::cuda::is_available())
        throw Error("Device " + spec.toString() +
                    " was asked for, but no CUDA GPU is usable here (no driver, no device, or a CPU-only "
                    "build). Use --device cpu.");
    auto count = static_cast<int>(torch::cuda::device_count());
    if (spec.index >= count)
        throw Error("Device " + spec.toString() + " does not exist: this machine has " +
                    std::to_string(count) + " CUDA device(s), cuda:0 to cuda:" + std::to_string(count - 1) +
                    ".");
}

void configureThreads(int n)
{
    torch::set_num_threads(n > 0 ? n : defaultThreadCount());
}

int threadCount()
{
    return torch::get_num_threads();
}

BuildInfo buildInfo()
{
    BuildInfo info;
    info.emlocVersion = kVersion;
    info.libtorchVersion = TORCH_VERSION;
#ifdef EMLOC_HAVE_CUDA
    info.cudaCompiled = true;
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    info.cudaVersion = std::to_string(runtime / 1000) + "." + std::to_string((runtime % 1000) / 10);
#endif
    info.cudaAvailable = torch::cuda::is_available();
    return info;
}

} // namespace emloc::core
