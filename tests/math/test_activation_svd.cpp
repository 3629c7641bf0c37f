// Stage 1's maths against the identities of method.md, in float64.
#include "emloc/api/error.h"
#include "emloc/math/activation_svd.h"

#include "unit_test.h"

#include <algorithm>
#include <cmath>

using namespace emloc::core;

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// Activations with a strongly non-uniform spectrum, as real hidden states have.
torch::Tensor correlatedActivations(int64_t tokens, int64_t n, uint64_t seed)
{
    torch::manual_seed(seed);
    torch::Tensor mixing =
        torch::randn({n, n}, kDouble) * torch::logspace(0, -2, n, 10, kDouble).unsqueeze(0);
    return torch::randn({tokens, n}, kDouble).matmul(mixing.t()) + 0.3 * torch::randn({1, n}, kDouble);
}
} // namespace

TEST_CASE(rankFollowsTheFormula)
{
    COMPARE(rankForRatio(0.4, 576, 576), int64_t(115));  // floor(0.4*576*576/1152) = 115.2
    COMPARE(rankForRatio(0.4, 1536, 576), int64_t(167)); // floor(0.4*884736/2112) = 167.56
    COMPARE(rankForRatio(1.0, 64, 32), int64_t(21));
    COMPARE(rankForRatio(1e-6, 8, 8), int64_t(1));
    VERIFY_THROWS(Error, rankForRatio(0.0, 8, 8));
    VERIFY_THROWS(Error, rankForRatio(1.5, 8, 8));
    VERIFY_THROWS(Error, rankForRatio(-0.1, 8, 8));
}

TEST_CASE(whiteningReproducesTheGram)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::Tensor x = correlatedActivations(400, 24, 1);
    torch::Tensor g = x.t().matmul(x);
    Whitening w = whiteningFromGram(g, *la);
    COMPARE(w.clampedEigenvalues, int64_t(0));
    VERIFY(torch::allclose(w.s.matmul(w.s.t()), g, 1e-10, 1e-9));
    VERIFY(torch::allclose(w.s.matmul(w.sInverse), torch::eye(24, kDouble), 1e-10, 1e-9));
}

TEST_CASE(whiteningClampsRankDeficientGrams)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::Tensor x = correlatedActivations(5, 16, 2); // rank 5 < 16
    Whitening w = whiteningFromGram(x.t().matmul(x), *la);
    VERIFY(w.clampedEigenvalues >= 10);
    VERIFY(torch::isfinite(w.sInverse).all().item<bool>());
}

TEST_CASE(zeroActivationsAreAClearError)
{
    auto la = makeLibTorchLinearAlgebra();
    VERIFY_THROWS(Error, whiteningFromGram(torch::zeros({8, 8}, kDouble), *la));
}

TEST_CASE(fullRankReproducesTheLayer)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::manual_seed(3);
    torch::Tensor weight = torch::randn({20, 12}, kDouble);
    torch::Tensor x = correlatedActivations(300, 12, 4);
    Whitening w = whiteningFromGram(x.t().matmul(x), *la);
    LowRankFactors f = factorizeLinear(weight, w, 12, *la);
    COMPARE(f.up.sizes().vec(), std::vector<int64_t>({20, 12}));
    COMPARE(f.down.sizes().vec(), std::vector<int64_t>({12, 12}));
    double error = (f.up.matmul(f.down) - weight).abs().max().item<double>();
    VERIFY2(error < 1e-10, emloc::test::str(error));
    VERIFY(f.reconstructionError() < 1e-10);
}

TEST_CASE(whitenedErrorEqualsTheDiscardedSingularValues)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::manual_seed(5);
    torch::Tensor weight = torch::randn({48, 32}, kDouble);
    torch::Tensor x = correlatedActivations(500, 32, 6);
    Whitening w = whiteningFromGram(x.t().matmul(x), *la);
    for (int64_t rank : {1, 5, 13, 31}) {
        LowRankFactors f = factorizeLinear(weight, w, rank, *la);
        double measured = (weight - f.up.matmul(f.down)).matmul(x.t()).norm().item<double>();
        double predicted = f.reconstructionError();
        VERIFY2(std::abs(measured - predicted) <= 1e-9 * std::max(1.0, predicted),
                emloc::test::str("rank ", rank, ": measured ", measured, ", predicted ", predicted));
    }
}

TEST_CASE(whitenedBeatsPlainSvdOnTheActivations)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::manual_seed(7);
    torch::Tensor weight = torch::randn({64, 48}, kDouble);
    torch::Tensor x = correlatedActivations(600, 48, 8);
    Whitening w = whiteningFromGram(x.t().matmul(x), *la);
    for (int64_t rank : {4, 12, 24}) {
        LowRankFactors aware = factorizeLinear(weight, w, rank, *la);
        LowRankFactors plain = factorizeLinear(weight, Whitening{}, rank, *la);
        double awareError = (weight - aware.up.matmul(aware.down)).matmul(x.t()).norm().item<double>();
        double plainError = (weight - plain.up.matmul(plain.down)).matmul(x.t()).norm().item<double>();
        VERIFY2(awareError < plainError,
                emloc::test::str("rank ", rank, ": aware ", awareError, " >= plain ", plainError));
        // The plain SVD is optimal in the Frobenius norm of the weight itself.
        double plainWeightError = (weight - plain.up.matmul(plain.down)).norm().item<double>();
        VERIFY(std::abs(plainWeightError - plain.reconstructionError()) < 1e-9);
    }
}

TEST_CASE(factorsSplitSingularValuesBySquareRoot)
{
    auto la = makeLibTorchLinearAlgebra();
    torch::manual_seed(9);
    torch::Tensor weight = torch::randn({10, 6}, kDouble);
    LowRankFactors f = factorizeLinear(weight, Whitening{}, 3, *la);
    // Wu^T Wu = diag(s_k) = Wv Wv^T for the plain SVD split.
    torch::Tensor s = torch::diag(f.singularValues.slice(0, 0, 3));
    VERIFY(torch::allclose(f.up.t().matmul(f.up), s, 1e-10, 1e-10));
    VERIFY(torch::allclose(f.down.matmul(f.down.t()), s, 1e-10, 1e-10));
    VERIFY(f.retainedEnergyFraction() > 0 && f.retainedEnergyFraction() < 1);
}
