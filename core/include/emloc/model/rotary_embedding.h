#pragma once

#include "emloc/io/model_config.h"

#include <torch/torch.h>

namespace emloc::core {

// Rotary position embedding exactly as transformers computes it: inverse frequencies from rope_theta and
// the head dimension in float32 (with "llama3" or "linear" rope_scaling applied), cos/sin from
// positions in float32, then cast to the compute dtype. Immutable after construction.
class RotaryEmbedding
{
public:
    // Error names the unsupported rope_scaling type.
    explicit RotaryEmbedding(const ModelConfig &config);

    // positions: [B, T] int64. Returns {cos, sin}, each [B, T, headDim] in `dtype` on positions' device.
    std::pair<torch::Tensor, torch::Tensor> cosSin(const torch::Tensor &positions,
                                                   torch::ScalarType dtype) const;
    const torch::Tensor &inverseFrequencies() const { return m_inverseFrequencies; } // [headDim / 2], float32

private:
    torch::Tensor m_inverseFrequencies;
};

// x * cos + rotate_half(x) * sin, with x [B, heads, T, headDim] and cos/sin [B, T, headDim].
torch::Tensor applyRotary(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin);

} // namespace emloc::core
