#pragma once
// Dropout for the LoRA path whose mask costs almost nothing on the CPU. ATen's CPU dropout draws one
// Mersenne-Twister number per element on one thread and keeps a float mask for backward: on the demo it
// was a third of a training step's time and, without gradient checkpointing, a float mask per LoRA module
// per layer. Here the mask is a counter-based hash of (seed, element index), computed in parallel and
// recomputed in backward from the seed, so nothing but the output is kept.

#include <torch/torch.h>

#include <cstdint>

namespace emloc::core {

// Training-mode dropout: zeroes each element of x with probability p (to 2^-32) and scales the kept ones so
// the expectation equals x exactly. CPU tensors use the hashed mask with one 64-bit seed drawn from the
// default CPU generator (so seeds, checkpoint recomputes and resumed runs replay the same masks); other
// devices use ATen's fused dropout. p = 0 returns x.
torch::Tensor hashedDropout(const torch::Tensor &x, double p);

// The keep-mask hashedDropout applies for `seed` (true = kept), for tests.
torch::Tensor hashedDropoutMask(int64_t numel, uint64_t seed, double p);

} // namespace emloc::core
