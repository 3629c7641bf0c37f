#pragma once
// The default random generators' states: saved with a checkpoint and restored for the recompute of a
// checkpointed layer, so dropout draws the same masks.

#include <torch/torch.h>

#include <mutex>

namespace emloc::core {

inline torch::Tensor generatorState(torch::Device device)
{
    auto generator = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(generator.mutex());
    return generator.get_state();
}

inline void setGeneratorState(torch::Device device, const torch::Tensor &state)
{
    auto generator = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
}

} // namespace emloc::core
