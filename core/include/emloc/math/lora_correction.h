#pragma once

#include "emloc/math/linear_algebra.h"

#include <torch/torch.h>

#include <cstdint>

namespace emloc::core {

// The LoRA correction of method.md, stage 3, for one linear layer. The LoRA (A [r, n], B [m, r],
// scale s) was trained on the emulator's weight W_E; the result (A', B'') applies to the original W
// with scale 1: unclamped, W + B'' A' equals W_E + s B A on the span of A's rows and W elsewhere.
struct CorrectionInput
{
    torch::Tensor original;  // W   [m, n]
    torch::Tensor emulator;  // W_E [m, n] (= Wu Wv; equal to W for layers kept dense)
    torch::Tensor loraA;     // A   [r, n]
    torch::Tensor loraB;     // B   [m, r]
    double scale = 1.0;      // s = alpha / r (or alpha / sqrt(r) with rsLoRA)
    double clampLimit = 3.0; // L; <= 0 disables the clamp
};

struct CorrectedLora
{
    torch::Tensor a;           // A'  = P^T          [r, n]
    torch::Tensor b;           // B'' = B' - C       [m, r], to be applied with scale 1
    double correctionNorm = 0; // ||C||_F after clamping
    double unclampedNorm = 0;  // ||C||_F before clamping
    int64_t clampedComponents = 0;
};

CorrectedLora correctLora(const CorrectionInput &input, const LinearAlgebra &linearAlgebra);

} // namespace emloc::core
