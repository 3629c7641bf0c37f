#include "emloc/model/rotary_embedding.h"

#include "emloc/api/error.h"

#include <cmath>

namespace emloc::core {

namespace {
// The same float32 operations as transformers' rope init functions, so the frequencies are bit-equal.
torch::Tensor defaultInverseFrequencies(double theta, int64_t dim)
{
    auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
    return 1.0 / torch::pow(theta, exponents);
}

torch::Tensor llama3InverseFrequencies(torch::Tensor invFreq, const RopeScaling &scaling)
{
    const double factor = scaling.factor;
    const double lowFreqFactor = scaling.lowFreqFactor;
    const double highFreqFactor = scaling.highFreqFactor;
    const double oldContext = static_cast<double>(scaling.originalMaxPositionEmbeddings);
    const double lowFreqWavelen = oldContext / lowFreqFactor;
    const double highFreqWavelen = oldContext / highFreqFactor;

    auto wavelen = 2 * M_PI / invFreq;
    auto scaled = torch::where(wavelen > lowFreqWavelen, invFreq / factor, invFreq);
    auto smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    auto smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
    auto isMedium = (wavelen >= highFreqWavelen).logical_and(wavelen <= lowFreqWavelen);
    return torch::where(isMedium, smoothed, scaled);
}
} // namespace

RotaryEmbedding::RotaryEmbedding(const ModelConfig &config)
{
    const int64_t dim = config.headDim > 0 ? config.headDim : config.hiddenSize / config.numHeads;
    auto invFreq = defaultInverseFrequencies(config.ropeTheta, dim);
    const std::string &type = config.ropeScaling.type;
    if (type.empty() || type == "default") {
        m_inverseFrequencies = invFreq;
    } else if (type == "linear") {
        m_inverseFrequencies = invFreq / config.ropeScaling.factor;
    } else if (type == "llama3") {
        m_inverseFrequencies = llama3InverseFrequencies(invFreq, config.ropeScaling);
    } else {
        throw Error(
            "rope_scaling type \"" + type +
            "\" is not supported (supported: none, \"linear\", \"llama3\"); the model cannot be run as is");
    }
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::cosSin(const torch::Tensor &positions,
                                                                torch::ScalarType dtype) const
{
    auto invFreq = m_inverseFrequencies.to(positions.device());
    auto freqs = positions.unsqueeze(-1).to(torch::kFloat32) * invFreq;
    auto emb = torch::cat({freqs, freqs}, -1);
    return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor applyRotary(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin)
{
    const int64_t half = x.size(-1) / 2;
    auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

} // namespace emloc::core
