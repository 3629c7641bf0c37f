// Stage 3's correction against the identities of method.md, in float64.
#include "emloc/api/error.h"
#include "emloc/math/lora_correction.h"

#include "unit_test.h"

#include <cmath>

using namespace emloc::core;

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

struct Layer
{
    torch::Tensor w, we, a, b;
};

Layer randomLayer(int64_t m, int64_t n, int64_t r, uint64_t seed)
{
    torch::manual_seed(seed);
    Layer layer;
    layer.w = torch::randn({m, n}, kDouble);
    layer.we = layer.w + 0.1 * torch::randn({m, 4}, kDouble).matmul(torch::randn({4, n}, kDouble));
    layer.a = torch::randn({r, n}, kDouble);
    layer.b = torch::randn({m, r}, kDouble);
    return layer;
}
} // namespace

TEST_CASE(unclampedCorrectionMatchesTheEmulatorOnTheLoraSpanAndTheOriginalElsewhere)
{
    auto la = makeLibTorchLinearAlgebra();
    Layer l = randomLayer(24, 16, 4, 1);
    const double scale = 2.0;
    CorrectedLora c = correctLora({l.w, l.we, l.a, l.b, scale, /*clampLimit=*/0}, *la);
    COMPARE(c.a.sizes().vec(), std::vector<int64_t>({4, 16}));
    COMPARE(c.b.sizes().vec(), std::vector<int64_t>({24, 4}));
    COMPARE(c.clampedComponents, int64_t(0));
    torch::Tensor corrected = l.w + c.b.matmul(c.a);
    torch::Tensor fineTunedEmulator = l.we + scale * l.b.matmul(l.a);
    // Orthonormal basis of the span of A's rows and of its complement.
    auto [q, rr] = torch::linalg_qr(torch::cat({l.a.t(), torch::randn({16, 12}, kDouble)}, 1), "complete");
    torch::Tensor span = q.slice(1, 0, 4), complement = q.slice(1, 4, 16);
    double onSpan = (corrected.matmul(span) - fineTunedEmulator.matmul(span)).abs().max().item<double>();
    double elsewhere = (corrected.matmul(complement) - l.w.matmul(complement)).abs().max().item<double>();
    VERIFY2(onSpan < 1e-10, emloc::test::str(onSpan));
    VERIFY2(elsewhere < 1e-10, emloc::test::str(elsewhere));
    // A' has orthonormal rows and B'A' = sBA before the correction.
    VERIFY(torch::allclose(c.a.matmul(c.a.t()), torch::eye(4, kDouble), 1e-12, 1e-12));
}

TEST_CASE(noGapMeansNoCorrection)
{
    auto la = makeLibTorchLinearAlgebra();
    Layer l = randomLayer(12, 10, 3, 2);
    CorrectedLora c = correctLora({l.w, l.w, l.a, l.b, 0.5, 3.0}, *la);
    VERIFY(c.correctionNorm < 1e-12);
    VERIFY(torch::allclose(c.b.matmul(c.a), 0.5 * l.b.matmul(l.a), 1e-12, 1e-12));
}

TEST_CASE(clampLimitsEachComponentToLTimesTheUpdate)
{
    auto la = makeLibTorchLinearAlgebra();
    Layer l = randomLayer(32, 20, 4, 3);
    l.we = l.w + 5.0 * torch::randn({32, 20}, kDouble); // a large gap
    l.b = 0.01 * l.b;                                   // a small update
    const double limit = 3.0, scale = 2.0;
    CorrectedLora clamped = correctLora({l.w, l.we, l.a, l.b, scale, limit}, *la);
    CorrectedLora free = correctLora({l.w, l.we, l.a, l.b, scale, 0}, *la);
    COMPARE(clamped.clampedComponents, int64_t(4));
    VERIFY(clamped.correctionNorm < free.unclampedNorm);
    VERIFY(std::abs(free.unclampedNorm - clamped.unclampedNorm) < 1e-12);
    // Recover B' and C from the unclamped result: B' = B'' + C, and C = (W - W_E) P.
    torch::Tensor c = (l.w - l.we).matmul(clamped.a.t());
    torch::Tensor bPrime = free.b + c;
    torch::Tensor clampedC = bPrime - clamped.b;
    torch::Tensor ratio = clampedC.abs().mean(0) / bPrime.abs().mean(0);
    VERIFY2(torch::allclose(ratio, torch::full({4}, limit, kDouble), 1e-9, 1e-9),
            emloc::test::str(ratio.max().item<double>()));
    // Each clamped column keeps its direction.
    torch::Tensor cosine = (clampedC * c).sum(0) / (clampedC.norm(2, 0) * c.norm(2, 0));
    VERIFY(torch::allclose(cosine, torch::ones({4}, kDouble), 1e-12, 1e-12));
}

TEST_CASE(smallGapsAreNotClamped)
{
    auto la = makeLibTorchLinearAlgebra();
    Layer l = randomLayer(16, 12, 2, 4);
    l.we = l.w + 1e-6 * torch::randn({16, 12}, kDouble);
    CorrectedLora c = correctLora({l.w, l.we, l.a, l.b, 1.0, 3.0}, *la);
    COMPARE(c.clampedComponents, int64_t(0));
    VERIFY(std::abs(c.correctionNorm - c.unclampedNorm) < 1e-15);
}

TEST_CASE(mismatchedShapesAreAClearError)
{
    auto la = makeLibTorchLinearAlgebra();
    Layer l = randomLayer(16, 12, 2, 5);
    torch::Tensor wrongA = torch::randn({2, 13}, kDouble);
    try {
        correctLora({l.w, l.we, wrongA, l.b, 1.0, 3.0}, *la);
        FAIL("no error for a mismatched adapter");
    } catch (const Error &e) {
        VERIFY(emloc::test::contains(e.what(), "another model"));
    }
}
