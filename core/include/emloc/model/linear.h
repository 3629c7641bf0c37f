#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// A projection y = f(x) over the last dimension of x, as the decoder sees it. The decoder only holds
// std::shared_ptr<Linear> slots, so any projection can be swapped by its Hugging Face module name for
// another kind (low-rank emulator factors, LoRA wrappers) without touching the decoder code.
// Implementations are immutable during forward() and may be shared between threads for inference.
class Linear
{
public:
    virtual ~Linear() = default;
    // x: [..., inFeatures] in the module's dtype and device; returns [..., outFeatures].
    virtual torch::Tensor forward(const torch::Tensor &x) const = 0;
    virtual int64_t inFeatures() const = 0;
    virtual int64_t outFeatures() const = 0;
    // "dense", "low_rank", "lora", ... for summaries and error messages.
    virtual std::string kind() const = 0;
    // Its tensors under their local names ("weight", "bias"), sharing storage with the module.
    virtual std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const = 0;
    // Moves and casts its tensors in place.
    virtual void to(torch::Device device, torch::ScalarType dtype) = 0;

    int64_t parameterCount() const;
};

// y = x W^T + b, with W [out, in] in the Hugging Face layout and an optional bias [out].
class DenseLinear : public Linear
{
public:
    // Error names the shapes when weight is not 2-D or the bias does not match its rows.
    DenseLinear(torch::Tensor weight, torch::Tensor bias = {});

    torch::Tensor forward(const torch::Tensor &x) const override;
    int64_t inFeatures() const override { return m_weight.size(1); }
    int64_t outFeatures() const override { return m_weight.size(0); }
    std::string kind() const override { return "dense"; }
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const override;
    void to(torch::Device device, torch::ScalarType dtype) override;

    const torch::Tensor &weight() const { return m_weight; }
    const torch::Tensor &bias() const { return m_bias; } // undefined when there is none

private:
    torch::Tensor m_weight;
    torch::Tensor m_bias;
};

} // namespace emloc::core
