#pragma once

#include "emloc/api/projections.h"
#include "emloc/api/run_defaults.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/linear.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// The LoRA hyper-parameters, as PEFT's LoraConfig names them.
struct LoraConfig
{
    int64_t rank = run_defaults::kLoraRank.value;
    double alpha = run_defaults::kLoraAlpha.value;
    double dropout = run_defaults::kLoraDropout.value;
    bool rsLora = false; // scale alpha / sqrt(r) instead of alpha / r
    // Local projection names ("q_proj", ..., "down_proj") or full module names.
    std::vector<std::string> targets = decoderProjections();
    double scale() const;
};

// The default targets as a comma list and back ("q_proj,k_proj"); short names "q", "gate" are accepted.
std::vector<std::string> parseLoraTargets(const std::string &commaList);

// y = base(x) + s * B(A(dropout(x))) around ANY projection (dense, low-rank emulator factors, ...), shaped
// like the wrapped layer: A [r, in], B [out, r]. The base stays frozen and in its own dtype (16-bit base
// weights on CUDA are never copied to fp32); A and B are float32 master weights (float64 when the base is
// float64, for gradient checks) that require grad and are cast to the input's dtype in forward, so
// gradients flow back to them in full precision. Dropout is hashedDropout (dropout.h):
// its seed comes from the default CPU generator, ATen's dropout on other devices.
class LoraLinear : public Linear
{
public:
    // A Kaiming-uniform (a = sqrt(5), as PEFT: U(-1/sqrt(in), 1/sqrt(in))) from the default CPU generator,
    // B zero. `device` is where the factors live.
    LoraLinear(std::shared_ptr<Linear> base, int64_t rank, double scale, double dropout, torch::Device device,
               torch::ScalarType factorDtype);

    torch::Tensor forward(const torch::Tensor &x) const override;
    int64_t inFeatures() const override { return m_base->inFeatures(); }
    int64_t outFeatures() const override { return m_base->outFeatures(); }
    std::string kind() const override { return "lora(" + m_base->kind() + ")"; }
    // The base's tensors under their own names plus "lora_A.weight" and "lora_B.weight".
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const override;
    // Moves the base (cast to `dtype`) and the factors (kept in their master dtype).
    void to(torch::Device device, torch::ScalarType dtype) override;

    const std::shared_ptr<Linear> &base() const { return m_base; }
    torch::Tensor &a() { return m_a; }
    torch::Tensor &b() { return m_b; }
    const torch::Tensor &a() const { return m_a; }
    const torch::Tensor &b() const { return m_b; }
    double scale() const { return m_scale; }
    int64_t rank() const { return m_a.size(0); }
    // Dropout only acts while training.
    void setTraining(bool training) { m_training = training; }
    bool training() const { return m_training; }

private:
    std::shared_ptr<Linear> m_base;
    torch::Tensor m_a;
    torch::Tensor m_b;
    double m_scale = 1;
    double m_dropout = 0;
    bool m_training = true;
};

// The LoRA modules attached to a model, by full Hugging Face module name in forward order.
struct LoraAttachment
{
    LoraConfig config;
    std::vector<std::pair<std::string, std::shared_ptr<LoraLinear>>> modules;

    // A and B of every module, in module order (A then B): what the optimizer updates.
    std::vector<torch::Tensor> parameters() const;
    int64_t parameterCount() const;
    std::vector<int64_t> layers() const; // decoder layer indices that carry LoRA, ascending
    void setTraining(bool training) const;
    // The LoRA parameters of decoder layer `layer`, for gradient checkpointing.
    std::vector<torch::Tensor> layerParameters(int64_t layer) const;
};

// Wraps every projection of `model` whose name matches a target ("q_proj" matches
// "model.layers.N.self_attn.q_proj") in a LoraLinear; `layers` limits it to those decoder layers (empty:
// all). A is drawn from the default CPU generator in module order: seed it first for reproducibility.
// Error when a target matches nothing, names the valid projection names.
LoraAttachment attachLora(CausalLM &model, const LoraConfig &config, const std::vector<int64_t> &layers = {});

// Puts the original projections back.
void detachLora(CausalLM &model, const LoraAttachment &attachment);

// The decoder layer index inside a full module name ("model.layers.12.mlp.up_proj" -> 12), -1 if none.
int64_t layerIndexOf(const std::string &moduleName);

} // namespace emloc::core
