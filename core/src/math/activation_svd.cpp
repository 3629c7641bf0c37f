#include "emloc/math/activation_svd.h"

#include "emloc/api/error.h"

#include <cmath>
#include <sstream>

namespace emloc::core {

int64_t rankForRatio(double ratio, int64_t outFeatures, int64_t inFeatures)
{
    if (!(ratio > 0.0 && ratio <= 1.0)) {
        std::ostringstream message;
        message << "Compression ratio " << ratio
                << " is outside (0, 1]: it is the fraction of each layer's parameters the emulator keeps "
                   "(the paper uses 0.4).";
        throw Error(message.str());
    }
    auto rank = static_cast<int64_t>(
        std::floor(ratio * double(outFeatures) * double(inFeatures) / double(outFeatures + inFeatures)));
    return std::max<int64_t>(1, rank);
}

Whitening whiteningFromGram(const torch::Tensor &gram, const LinearAlgebra &linearAlgebra, double epsilon)
{
    TORCH_CHECK(gram.dim() == 2 && gram.size(0) == gram.size(1), "Gram matrix must be square");
    const int64_t n = gram.size(0);
    // Symmetrise: accumulation order leaves the two triangles a rounding error apart.
    torch::Tensor g = 0.5 * (gram + gram.t());
    double trace = g.diagonal().sum().item<double>();
    if (!(trace > 0.0) || !std::isfinite(trace))
        throw Error(
            "The calibration activations of a layer are all zero or not finite (trace of the Gram matrix "
            "is " +
            std::to_string(trace) +
            "): the calibration data gave no usable tokens, or the model "
            "has NaN/Inf weights.");
    auto eigen = linearAlgebra.symmetricEigen(g);
    const double t = trace / double(n);
    torch::Tensor normalised = eigen.values / t;
    Whitening whitening;
    whitening.clampedEigenvalues = (normalised < epsilon).sum().item<int64_t>();
    torch::Tensor values = normalised.clamp_min(epsilon) * t;
    torch::Tensor root = values.sqrt();
    whitening.s = eigen.vectors * root.unsqueeze(0);            // Q diag(sqrt(l))
    whitening.sInverse = eigen.vectors.t() / root.unsqueeze(1); // diag(1/sqrt(l)) Q^T
    return whitening;
}

double LowRankFactors::reconstructionError() const
{
    return std::sqrt(std::max(0.0, discardedEnergy));
}

double LowRankFactors::retainedEnergyFraction() const
{
    return totalEnergy > 0 ? 1.0 - discardedEnergy / totalEnergy : 1.0;
}

LowRankFactors factorizeLinear(const torch::Tensor &weight, const Whitening &whitening, int64_t rank,
                               const LinearAlgebra &linearAlgebra)
{
    TORCH_CHECK(weight.dim() == 2, "weight must be a matrix");
    const int64_t maxRank = std::min(weight.size(0), weight.size(1));
    rank = std::clamp<int64_t>(rank, 1, maxRank);
    const bool whitened = whitening.s.defined();
    torch::Tensor target = whitened ? weight.matmul(whitening.s.to(weight.dtype())) : weight;
    auto svd = linearAlgebra.thinSvd(target);

    LowRankFactors factors;
    factors.rank = rank;
    factors.singularValues = svd.s;
    torch::Tensor energy = svd.s.to(torch::kFloat64).square();
    factors.totalEnergy = energy.sum().item<double>();
    factors.discardedEnergy = energy.slice(0, rank).sum().item<double>();

    torch::Tensor root = svd.s.slice(0, 0, rank).sqrt();
    factors.up = svd.u.slice(1, 0, rank) * root.unsqueeze(0);
    torch::Tensor down = root.unsqueeze(1) * svd.vh.slice(0, 0, rank);
    factors.down = whitened ? down.matmul(whitening.sInverse.to(weight.dtype())) : down;
    return factors;
}

} // namespace emloc::core
