#include "emloc/model/dropout.h"

#include "emloc/api/error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <type_traits>
#include <vector>

namespace emloc::core {

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Elements per hash key: the index inside a block stays 32-bit, so the inner loop vectorises.
constexpr int64_t kBlock = int64_t{1} << 16;

uint64_t splitMix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

// Elements whose 32-bit draw falls below the threshold are dropped: P(drop) = threshold / 2^32.
uint32_t dropThreshold(double p)
{
    // p below 1 can still round to 2^32: the largest threshold is the nearest a 32-bit draw can mean.
    return static_cast<uint32_t>(std::min<long long>(std::llround(p * 4294967296.0), 0xFFFFFFFFLL));
}

double keepScale(double p)
{
    return 4294967296.0 / (4294967296.0 - static_cast<double>(dropThreshold(p)));
}

// keep[j] = 1 where the hash of (key, j) keeps element j of a block, else 0. Cloned for AVX2 and AVX-512,
// picked at run time: the baseline x86-64 build has no vector 32-bit multiply.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
keepFlags(uint8_t *keep, int32_t count, uint32_t k0, uint32_t k1, uint32_t threshold)
{
    for (int32_t j = 0; j < count; ++j)
        keep[j] = mix32(mix32(static_cast<uint32_t>(j) ^ k0) + k1) >= threshold ? 1 : 0;
}

// out[i] = in[i] * scale where the hash keeps element i, else 0; in and out contiguous.
template <typename T> void applyMask(const T *in, T *out, int64_t numel, uint64_t seed, double p)
{
    // double keeps double; float, bf16 and fp16 scale in float.
    using Scale = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const uint32_t threshold = dropThreshold(p);
    const auto scale = static_cast<Scale>(keepScale(p));
    const int64_t blocks = (numel + kBlock - 1) / kBlock;
    at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        std::vector<uint8_t> keep(kBlock);
        for (int64_t block = first; block < last; ++block) {
            const uint64_t key = splitMix64(seed ^ splitMix64(static_cast<uint64_t>(block)));
            const int64_t start = block * kBlock;
            const auto count = static_cast<int32_t>(std::min(kBlock, numel - start));
            keepFlags(keep.data(), count, static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32),
                      threshold);
            const T *source = in + start;
            T *target = out + start;
            for (int32_t j = 0; j < count; ++j)
                target[j] = static_cast<T>(static_cast<Scale>(source[j]) * (keep[j] ? scale : Scale(0)));
        }
    });
}

torch::Tensor masked(const torch::Tensor &x, uint64_t seed, double p)
{
    auto input = x.contiguous();
    auto output = torch::empty_like(input);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "hashedDropout", [&] {
        applyMask<scalar_t>(input.const_data_ptr<scalar_t>(), output.mutable_data_ptr<scalar_t>(),
                            input.numel(), seed, p);
    });
    return output;
}

class HashedDropout : public torch::autograd::Function<HashedDropout>
{
public:
    static torch::Tensor forward(AutogradContext *context, const torch::Tensor &x, int64_t seed,
                                 double probability)
    {
        // Only the seed and the probability are kept: backward draws the same mask again.
        context->saved_data["seed"] = seed;
        context->saved_data["probability"] = probability;
        return masked(x, static_cast<uint64_t>(seed), probability);
    }

    static variable_list backward(AutogradContext *context, variable_list gradOutputs)
    {
        const auto seed = static_cast<uint64_t>(context->saved_data["seed"].toInt());
        const double probability = context->saved_data["probability"].toDouble();
        return {masked(gradOutputs[0], seed, probability), torch::Tensor(), torch::Tensor()};
    }
};

uint64_t drawSeed()
{
    auto generator = at::globalContext().defaultGenerator(torch::kCPU);
    std::lock_guard<std::mutex> lock(generator.mutex());
    return generator.get<at::CPUGeneratorImpl>()->random64();
}
} // namespace

torch::Tensor hashedDropout(const torch::Tensor &x, double p)
{
    if (p < 0 || p >= 1)
        throw Error("dropout must be in [0, 1), got " + std::to_string(p));
    if (p == 0)
        return x;
    if (!x.device().is_cpu())
        return torch::dropout(x, p, /*train=*/true);
    return HashedDropout::apply(x, static_cast<int64_t>(drawSeed()), p);
}

torch::Tensor hashedDropoutMask(int64_t numel, uint64_t seed, double p)
{
    return masked(torch::ones({numel}, torch::kFloat64), seed, p) != 0;
}

} // namespace emloc::core
