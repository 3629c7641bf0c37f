#include "emloc/math/lora_correction.h"

#include "emloc/api/error.h"

namespace emloc::core {

CorrectedLora correctLora(const CorrectionInput &input, const LinearAlgebra &linearAlgebra)
{
    const auto &w = input.original;
    const auto &a = input.loraA;
    const auto &b = input.loraB;
    if (w.dim() != 2 || !input.emulator.sizes().equals(w.sizes()) || a.dim() != 2 || b.dim() != 2 ||
        a.size(1) != w.size(1) || b.size(0) != w.size(0) || b.size(1) != a.size(0)) {
        throw Error("LoRA shapes do not match the layer: W is " + std::to_string(w.size(0)) + "x" +
                    std::to_string(w.size(1)) + ", A is " + std::to_string(a.size(0)) + "x" +
                    std::to_string(a.size(1)) + ", B is " + std::to_string(b.size(0)) + "x" +
                    std::to_string(b.size(1)) + ". The adapter was trained for another model.");
    }
    auto dtype = w.scalar_type();
    // 1. A^T = P diag(a) R^T (thin: P is n x r).
    auto svd = linearAlgebra.thinSvd(a.t().to(dtype));
    torch::Tensor p = svd.u;      // [n, r]
    torch::Tensor r = svd.vh.t(); // [r, r]
    // 2. A' = P^T, B' = s B R diag(a): B' A' = s B A.
    CorrectedLora result;
    result.a = p.t().contiguous();
    torch::Tensor bPrime = input.scale * b.to(dtype).matmul(r) * svd.s.unsqueeze(0);
    // 3. C = (W - W_E) P.
    torch::Tensor c = (w - input.emulator.to(dtype)).matmul(p);
    result.unclampedNorm = c.norm().item<double>();
    // 4. Clamp each component i whose correction outweighs the learned update by more than L.
    if (input.clampLimit > 0) {
        torch::Tensor bMean = bPrime.abs().mean(0);
        torch::Tensor cMean = c.abs().mean(0);
        // Only components with cMean > L * bMean >= 0 use the quotient, so it never divides by zero.
        torch::Tensor exceeds = cMean > input.clampLimit * bMean;
        torch::Tensor factor =
            torch::where(exceeds, input.clampLimit * bMean / cMean, torch::ones_like(cMean));
        result.clampedComponents = exceeds.sum().item<int64_t>();
        c = c * factor.unsqueeze(0);
    }
    result.correctionNorm = c.norm().item<double>();
    // 5. B'' = B' - C, applied with scale 1.
    result.b = (bPrime - c).contiguous();
    return result;
}

} // namespace emloc::core
