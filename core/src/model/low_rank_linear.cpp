#include "emloc/model/low_rank_linear.h"

#include "emloc/api/error.h"
#include "emloc/model/weight_loading.h"

namespace emloc::core {

namespace {
std::string shapeText(const torch::Tensor &tensor)
{
    return tensor.defined() ? c10::str(tensor.sizes()) : std::string("nothing");
}
} // namespace

LowRankLinear::LowRankLinear(torch::Tensor up, torch::Tensor down, torch::Tensor bias)
    : m_up(std::move(up)), m_down(std::move(down)), m_bias(std::move(bias))
{
    if (!m_up.defined() || !m_down.defined() || m_up.dim() != 2 || m_down.dim() != 2 ||
        m_up.size(1) != m_down.size(0))
        throw Error("a low-rank linear layer needs up [out, k] and down [k, in], got " + shapeText(m_up) +
                    " and " + shapeText(m_down));
    if (m_bias.defined() && (m_bias.dim() != 1 || m_bias.size(0) != m_up.size(0)))
        throw Error("a low-rank linear layer's bias " + shapeText(m_bias) + " does not match its up factor " +
                    shapeText(m_up));
}

torch::Tensor LowRankLinear::forward(const torch::Tensor &x) const
{
    return torch::nn::functional::linear(torch::nn::functional::linear(x, m_down), m_up, m_bias);
}

std::vector<std::pair<std::string, torch::Tensor>> LowRankLinear::namedTensors() const
{
    // Local names without the leading dot, as DenseLinear's "weight".
    std::vector<std::pair<std::string, torch::Tensor>> tensors{{kLowRankUpSuffix + 1, m_up},
                                                               {kLowRankDownSuffix + 1, m_down}};
    if (m_bias.defined())
        tensors.emplace_back("bias", m_bias);
    return tensors;
}

void LowRankLinear::to(torch::Device device, torch::ScalarType dtype)
{
    m_up = m_up.to(device, dtype);
    m_down = m_down.to(device, dtype);
    if (m_bias.defined())
        m_bias = m_bias.to(device, dtype);
}

torch::Tensor LowRankLinear::composedWeight() const
{
    return m_up.matmul(m_down);
}

std::shared_ptr<Linear> makeLinear(const WeightSource &weights, const std::string &moduleName,
                                   int64_t outFeatures, int64_t inFeatures, const TensorPlacement &placement,
                                   bool biasRequired)
{
    torch::Tensor bias;
    if (biasRequired || weights.contains(moduleName + ".bias"))
        bias = loadTensor(weights, moduleName + ".bias", {outFeatures}, placement);
    const std::string upName = moduleName + kLowRankUpSuffix;
    const std::string downName = moduleName + kLowRankDownSuffix;
    if (weights.contains(moduleName + ".weight") || !weights.contains(upName))
        return std::make_shared<DenseLinear>(
            loadTensor(weights, moduleName + ".weight", {outFeatures, inFeatures}, placement), bias);
    if (!weights.contains(downName))
        throw Error("the model has \"" + upName + "\" but no \"" + downName +
                    "\": an emulator stores both factors of a compressed projection; rebuild the emulator");
    const std::vector<int64_t> upShape = weights.shape(upName);
    if (upShape.size() != 2 || upShape[0] != outFeatures || upShape[1] < 1)
        throw Error("tensor \"" + upName + "\" has shape " + c10::str(c10::IntArrayRef(upShape)) +
                    " but config.json implies [" + std::to_string(outFeatures) +
                    ", rank]; the emulator does not match its config");
    const int64_t rank = upShape[1];
    return std::make_shared<LowRankLinear>(loadTensor(weights, upName, {outFeatures, rank}, placement),
                                           loadTensor(weights, downName, {rank, inFeatures}, placement),
                                           bias);
}

} // namespace emloc::core
