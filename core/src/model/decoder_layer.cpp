#include "emloc/model/decoder_layer.h"

#include "emloc/api/error.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/model/weight_loading.h"

#include <cmath>

namespace emloc::core {

namespace {
enum LinearSlot { kQ, kK, kV, kO, kGate, kUp, kDown, kSlotCount };

torch::Tensor realRows(const torch::Tensor &x, const torch::Tensor &tokenMask)
{
    auto rows = x.reshape({-1, x.size(-1)});
    return tokenMask.defined() ? rows.index({tokenMask.reshape({-1})}) : rows;
}
} // namespace

torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps)
{
    // transformers' float32 statistics for 16- and 32-bit inputs; float64 stays float64 (exact checks).
    auto x32 = x.scalar_type() == torch::kFloat64 ? x : x.to(torch::kFloat32);
    auto variance = x32.pow(2).mean(-1, /*keepdim=*/true);
    return weight * (x32 * torch::rsqrt(variance + eps)).to(x.scalar_type());
}

const std::vector<std::string> &DecoderLayer::linearNames()
{
    static const std::vector<std::string> names{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                "mlp.down_proj"};
    return names;
}

DecoderLayer::DecoderLayer(const ModelConfig &config, const WeightSource &weights, int64_t index,
                           const TensorPlacement &placement)
    : m_config(config), m_index(index)
{
    m_config.raw = nlohmann::json(); // the layer needs the shape only
    const int64_t hidden = config.hiddenSize;
    const int64_t headDim = headDimOf(config);
    const int64_t qOut = config.numHeads * headDim;
    const int64_t kvOut = config.numKeyValueHeads * headDim;
    const int64_t inter = config.intermediateSize;
    const std::string pre = prefix();

    const std::vector<std::vector<int64_t>> shapes{{qOut, hidden}, {kvOut, hidden}, {kvOut, hidden},
                                                   {hidden, qOut}, {inter, hidden}, {inter, hidden},
                                                   {hidden, inter}};
    for (int slot = 0; slot < kSlotCount; ++slot) {
        const std::string name = pre + linearNames()[slot];
        // qwen2 always has q/k/v biases; llama's attention_bias and mlp_bias add others: take whatever is
        // stored. makeLinear reads a dense weight, or an emulator's low-rank factors.
        const bool required = config.attentionBias && slot <= kV;
        m_linears.push_back(makeLinear(weights, name, shapes[slot][0], shapes[slot][1], placement, required));
        m_linearNamesFull.push_back(name);
    }
    m_inputNorm = loadTensor(weights, pre + "input_layernorm.weight", {hidden}, placement);
    m_postAttentionNorm = loadTensor(weights, pre + "post_attention_layernorm.weight", {hidden}, placement);
    if (config.qkNorm) {
        m_qNorm = loadTensor(weights, pre + "self_attn.q_norm.weight", {headDim}, placement);
        m_kNorm = loadTensor(weights, pre + "self_attn.k_norm.weight", {headDim}, placement);
    }
    auto full = [this](std::initializer_list<int> slots) {
        std::vector<std::string> names;
        for (int slot : slots)
            names.push_back(m_linearNamesFull[slot]);
        return names;
    };
    m_qkvNames = full({kQ, kK, kV});
    m_oNames = full({kO});
    m_gateUpNames = full({kGate, kUp});
    m_downNames = full({kDown});
}

std::string DecoderLayer::prefix() const
{
    return "model.layers." + std::to_string(m_index) + ".";
}

std::shared_ptr<Linear> &DecoderLayer::linearSlot(const std::string &localName)
{
    const auto &names = linearNames();
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == localName)
            return m_linears[i];
    std::string valid;
    for (const auto &name : names)
        valid += (valid.empty() ? "" : ", ") + name;
    throw Error("a decoder layer has no projection \"" + localName + "\" (valid: " + valid + ")");
}

const std::shared_ptr<Linear> &DecoderLayer::linear(const std::string &localName) const
{
    return const_cast<DecoderLayer *>(this)->linearSlot(localName);
}

torch::Tensor DecoderLayer::forward(const torch::Tensor &hidden, const LayerInputs &inputs, KVCache *cache,
                                    const LinearInputObserver &observer) const
{
    const int64_t batch = hidden.size(0);
    const int64_t length = hidden.size(1);
    const int64_t headDim = headDimOf(m_config);
    const double eps = m_config.rmsNormEps;

    auto x = rmsNorm(hidden, m_inputNorm, eps);
    if (observer)
        observer(m_qkvNames, realRows(x, inputs.tokenMask));
    auto q = m_linears[kQ]->forward(x).view({batch, length, -1, headDim});
    auto k = m_linears[kK]->forward(x).view({batch, length, -1, headDim});
    auto v = m_linears[kV]->forward(x).view({batch, length, -1, headDim});
    if (m_qNorm.defined()) {
        q = rmsNorm(q, m_qNorm, eps);
        k = rmsNorm(k, m_kNorm, eps);
    }
    q = applyRotary(q.transpose(1, 2), inputs.cos, inputs.sin);
    k = applyRotary(k.transpose(1, 2), inputs.cos, inputs.sin);
    v = v.transpose(1, 2);
    if (cache)
        std::tie(k, v) = cache->update(m_index, k, v);

    std::optional<torch::Tensor> mask;
    if (inputs.mask.defined())
        mask = inputs.mask;
    auto attention =
        at::scaled_dot_product_attention(q, k, v, mask, 0.0, inputs.causal, 1.0 / std::sqrt(headDim),
                                         /*enable_gqa=*/q.size(1) != k.size(1));
    attention = attention.transpose(1, 2).reshape({batch, length, -1});
    if (observer)
        observer(m_oNames, realRows(attention, inputs.tokenMask));
    auto residual = hidden + m_linears[kO]->forward(attention);

    x = rmsNorm(residual, m_postAttentionNorm, eps);
    if (observer)
        observer(m_gateUpNames, realRows(x, inputs.tokenMask));
    auto gated = torch::silu(m_linears[kGate]->forward(x)) * m_linears[kUp]->forward(x);
    if (observer)
        observer(m_downNames, realRows(gated, inputs.tokenMask));
    return residual + m_linears[kDown]->forward(gated);
}

std::vector<std::pair<std::string, torch::Tensor>> DecoderLayer::namedTensors() const
{
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    const std::string pre = prefix();
    tensors.emplace_back(pre + "input_layernorm.weight", m_inputNorm);
    for (size_t i = 0; i < m_linears.size(); ++i)
        for (const auto &named : m_linears[i]->namedTensors())
            tensors.emplace_back(m_linearNamesFull[i] + "." + named.first, named.second);
    if (m_qNorm.defined()) {
        tensors.emplace_back(pre + "self_attn.q_norm.weight", m_qNorm);
        tensors.emplace_back(pre + "self_attn.k_norm.weight", m_kNorm);
    }
    tensors.emplace_back(pre + "post_attention_layernorm.weight", m_postAttentionNorm);
    return tensors;
}

void DecoderLayer::to(const TensorPlacement &placement)
{
    for (auto &linear : m_linears)
        linear->to(placement.device, placement.dtype);
    m_inputNorm = m_inputNorm.to(placement.device, placement.dtype);
    m_postAttentionNorm = m_postAttentionNorm.to(placement.device, placement.dtype);
    if (m_qNorm.defined()) {
        m_qNorm = m_qNorm.to(placement.device, placement.dtype);
        m_kNorm = m_kNorm.to(placement.device, placement.dtype);
    }
}

} // namespace emloc::core
