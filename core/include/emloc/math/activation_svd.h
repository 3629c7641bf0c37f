#pragma once

#include "emloc/math/linear_algebra.h"

#include <torch/torch.h>

#include <cstdint>

namespace emloc::core {

// Rank that keeps the fraction `ratio` of an m x n layer's parameters as two factors:
// floor(ratio * m * n / (m + n)), at least 1. Error when ratio is outside (0, 1].
int64_t rankForRatio(double ratio, int64_t outFeatures, int64_t inFeatures);

// Whitening from a Gram matrix G = X^T X (method.md, stage 1 step 3): G = Q diag(l) Q^T, eigenvalues
// normalised by t = trace(G)/n and clamped from below at `epsilon`, S = Q diag(sqrt(l)),
// S^-1 = diag(1/sqrt(l)) Q^T, so S S^T = G up to the clamp.
struct Whitening
{
    torch::Tensor s;        // [n, n]
    torch::Tensor sInverse; // [n, n]
    int64_t clampedEigenvalues = 0;
};
Whitening whiteningFromGram(const torch::Tensor &gram, const LinearAlgebra &linearAlgebra,
                            double epsilon = 1e-7);

// A rank-k factorisation W ~ up * down of one linear layer.
struct LowRankFactors
{
    torch::Tensor up;             // Wu [m, k]
    torch::Tensor down;           // Wv [k, n]
    torch::Tensor singularValues; // all of them, descending (whitened when a Gram was given)
    int64_t rank = 0;
    double discardedEnergy = 0; // sum of the discarded s_i^2
    double totalEnergy = 0;     // sum of all s_i^2
    // sqrt(discardedEnergy): equals ||(W - up*down) X^T||_F for whitened factors.
    double reconstructionError() const;
    double retainedEnergyFraction() const;
};

// Activation-aware SVD (method.md, steps 4-5): SVD of W S, keep the top k, split the singular values
// by their square root: Wu = U_k diag(sqrt(s_k)), Wv = diag(sqrt(s_k)) V_k^T S^-1. With an undefined
// whitening it is the plain truncated SVD of W (the ablation). Computes in the weight's dtype; pass
// float64 for exactness.
LowRankFactors factorizeLinear(const torch::Tensor &weight, const Whitening &whitening, int64_t rank,
                               const LinearAlgebra &linearAlgebra);

} // namespace emloc::core
