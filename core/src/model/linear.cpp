#include "emloc/model/linear.h"

#include "emloc/api/error.h"

namespace emloc::core {

namespace {
std::string shapeText(const torch::Tensor &tensor)
{
    std::string text = "[";
    for (int64_t i = 0; i < tensor.dim(); ++i)
        text += (i ? ", " : "") + std::to_string(tensor.size(i));
    return text + "]";
}
} // namespace

int64_t Linear::parameterCount() const
{
    int64_t count = 0;
    for (const auto &named : namedTensors())
        count += named.second.numel();
    return count;
}

DenseLinear::DenseLinear(torch::Tensor weight, torch::Tensor bias)
    : m_weight(std::move(weight)), m_bias(std::move(bias))
{
    if (!m_weight.defined() || m_weight.dim() != 2)
        throw Error("a linear layer's weight must be a 2-D [out, in] tensor, got " +
                    (m_weight.defined() ? shapeText(m_weight) : std::string("nothing")));
    if (m_bias.defined() && (m_bias.dim() != 1 || m_bias.size(0) != m_weight.size(0)))
        throw Error("a linear layer's bias " + shapeText(m_bias) + " does not match its weight " +
                    shapeText(m_weight));
}

torch::Tensor DenseLinear::forward(const torch::Tensor &x) const
{
    return torch::nn::functional::linear(x, m_weight, m_bias);
}

std::vector<std::pair<std::string, torch::Tensor>> DenseLinear::namedTensors() const
{
    std::vector<std::pair<std::string, torch::Tensor>> tensors{{"weight", m_weight}};
    if (m_bias.defined())
        tensors.emplace_back("bias", m_bias);
    return tensors;
}

void DenseLinear::to(torch::Device device, torch::ScalarType dtype)
{
    m_weight = m_weight.to(device, dtype);
    if (m_bias.defined())
        m_bias = m_bias.to(device, dtype);
}

} // namespace emloc::core
