#pragma once

// How fast the engine computes, against what the machine can do: the
// benchmark's yardsticks.

#include "emloc/io/model_config.h"

#include <torch/torch.h>

#include <cstdint>

namespace emloc::core {

struct MatmulRate
{
    double flopsPerSecond = 0;
    int64_t size = 0;    // n of the n x n by n x n product
    int64_t repeats = 0; // products timed
    double seconds = 0;  // their total time
};

// The rate of square matrix products of `size` on `device` in `dtype`, timed
// for at least `minSeconds` after a warm-up: the ceiling that forward and
// training rates are reported against.
MatmulRate measureMatmulRate(torch::Device device, torch::ScalarType dtype, int64_t size = 2048,
                             double minSeconds = 1.0);

// Floating-point operations of the attention scores and their weighted sum (Q
// K^T and P V) in one forward pass over every layer, for `rows` sequences of
// `length` tokens (full square, as computed).
double attentionFlops(const ModelConfig &config, int64_t rows, int64_t length);

// One forward pass (no gradients): the projections (2 per parameter per token),
// attention and the language-model head over every position.
double estimateForwardFlops(const ModelConfig &config, int64_t linearParameters, int64_t rows,
                            int64_t length);

} // namespace emloc::core
