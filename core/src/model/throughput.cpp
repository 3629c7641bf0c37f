#include "emloc/model/throughput.h"

#include "emloc/api/error.h"

#include <torch/cuda.h>

#include <chrono>

namespace emloc::core {

namespace {
void synchronize(torch::Device device)
{
    if (device.is_cuda())
        torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}
} // namespace

MatmulRate measureMatmulRate(torch::Device device, torch::ScalarType dtype, int64_t size, double minSeconds)
{
    if (size < 1)
        throw Error("the matrix size must be at least 1");
    torch::NoGradGuard noGrad;
    const auto options = torch::TensorOptions().device(device).dtype(dtype);
    const auto a = torch::randn({size, size}, options);
    const auto b = torch::randn({size, size}, options);
    auto c = torch::matmul(a, b); // warm-up: thread pools, cuBLAS handles, caches
    synchronize(device);

    MatmulRate rate;
    rate.size = size;
    const auto started = std::chrono::steady_clock::now();
    do {
        c = torch::matmul(a, b);
        ++rate.repeats;
        synchronize(device);
        rate.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } while (rate.seconds < minSeconds);
    const double flops =
        2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size);
    rate.flopsPerSecond = flops * static_cast<double>(rate.repeats) / rate.seconds;
    return rate;
}

double attentionFlops(const ModelConfig &config, int64_t rows, int64_t length)
{
    const int64_t headDim = config.headDim > 0 ? config.headDim : config.hiddenSize / config.numHeads;
    const double width = static_cast<double>(config.numHeads * headDim);
    // Q K^T and P V: 2 flops per multiply-add, each [length x length x width] per
    // row and layer.
    return 4.0 * static_cast<double>(rows) * static_cast<double>(length) * static_cast<double>(length) *
           width * static_cast<double>(config.numLayers);
}

double estimateForwardFlops(const ModelConfig &config, int64_t linearParameters, int64_t rows, int64_t length)
{
    const double tokens = static_cast<double>(rows) * static_cast<double>(length);
    const double linear = 2.0 * static_cast<double>(linearParameters) * tokens;
    const double head =
        2.0 * tokens * static_cast<double>(config.vocabSize) * static_cast<double>(config.hiddenSize);
    return linear + attentionFlops(config, rows, length) + head;
}

} // namespace emloc::core
