#include "emloc/model/causal_lm.h"
#include "emloc/api/parse_number.h"
#include "emloc/io/dtype.h"

#include "emloc/api/error.h"
#include "emloc/model/weight_loading.h"
#include "emloc/util/memory.h"

namespace emloc::core {

torch::ScalarType parseComputeDtype(const std::string &text, torch::Device device)
{
    if (text == "auto")
        return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
    const std::optional<torch::ScalarType> type = floatDtypeFromName(text);
    if (type == torch::kFloat32)
        return torch::kFloat32;
    if (type == torch::kBFloat16 || type == torch::kFloat16) {
        if (!device.is_cuda())
            throw Error("dtype \"" + text + "\" needs a CUDA device; on the CPU use fp32 (or auto)");
        return *type;
    }
    throw Error("unknown dtype \"" + text + "\" (accepted: auto, fp32, bf16, fp16)");
}

CausalLM::CausalLM(const ModelFiles &files, const CausalLMOptions &options, Feedback *feedback)
    : CausalLM(files.config, files.weights, options, feedback)
{}

CausalLM::CausalLM(const ModelConfig &config, std::shared_ptr<WeightSource> weights,
                   const CausalLMOptions &options, Feedback *feedback)
    : m_config(config), m_weights(std::move(weights)), m_options(options), m_rope(config)
{
    if (!m_weights)
        throw Error("no weights were given for the model");
    load(feedback);
}

void CausalLM::load(Feedback *feedback)
{
    const auto &placement = m_options.placement;
    const int64_t hidden = m_config.hiddenSize;
    m_embedTokens =
        loadTensor(*m_weights, "model.embed_tokens.weight", {m_config.vocabSize, hidden}, placement);
    m_finalNorm = loadTensor(*m_weights, "model.norm.weight", {hidden}, placement);
    // GGUF files of tied models carry no output tensor even when the flag is missing.
    m_tied = m_config.tieWordEmbeddings || !m_weights->contains("lm_head.weight");
    auto headWeight = m_tied
                          ? m_embedTokens
                          : loadTensor(*m_weights, "lm_head.weight", {m_config.vocabSize, hidden}, placement);
    m_lmHead = std::make_shared<DenseLinear>(headWeight);
    if (m_options.streamLayers)
        return;
    m_layers.reserve(static_cast<size_t>(m_config.numLayers));
    for (int64_t i = 0; i < m_config.numLayers; ++i) {
        if (feedback) {
            feedback->checkpoint();
            feedback->progress("load", i, m_config.numLayers);
        }
        m_layers.push_back(loadLayer(i));
        // A merged or emulated weight is computed through float64 temporaries that land between the kept
        // tensors in glibc's heap; handed back per layer, they never add up to a model's worth of RSS.
        releaseFreedMemory();
    }
    if (feedback)
        feedback->progress("load", m_config.numLayers, m_config.numLayers);
}

std::unique_ptr<DecoderLayer> CausalLM::loadLayer(int64_t index) const
{
    return std::make_unique<DecoderLayer>(m_config, *m_weights, index, m_options.placement);
}

DecoderLayer &CausalLM::layer(int64_t index)
{
    if (m_options.streamLayers)
        throw Error("the model streams its layers from disk; layer " + std::to_string(index) +
                    " is not resident (use loadLayer or runLayer)");
    if (index < 0 || index >= static_cast<int64_t>(m_layers.size()))
        throw Error("layer " + std::to_string(index) + " does not exist (the model has " +
                    std::to_string(m_layers.size()) + ")");
    return *m_layers[static_cast<size_t>(index)];
}

torch::Tensor CausalLM::embed(const torch::Tensor &ids) const
{
    if (ids.dim() != 2)
        throw Error("input ids must be [batch, tokens]");
    auto onDevice = ids.to(m_options.placement.device, torch::kInt64);
    if (onDevice.numel() > 0) {
        auto [low, high] = torch::aminmax(onDevice);
        if (low.item<int64_t>() < 0 || high.item<int64_t>() >= m_config.vocabSize)
            throw Error("a token id is outside the vocabulary [0, " + std::to_string(m_config.vocabSize) +
                        "); the tokenizer does not belong to this model");
    }
    return torch::embedding(m_embedTokens, onDevice);
}

LayerInputs CausalLM::prepareInputs(int64_t batch, int64_t length, const torch::Tensor &attentionMask,
                                    KVCache *cache) const
{
    return prepareLayerInputs(m_config, m_rope, batch, length, attentionMask, cache, m_options.placement);
}

torch::Tensor CausalLM::runLayer(int64_t index, const torch::Tensor &hidden, const LayerInputs &inputs,
                                 KVCache *cache, const LinearInputObserver &observer)
{
    if (m_options.streamLayers) {
        auto streamed = loadLayer(index);
        return streamed->forward(hidden, inputs, cache, observer);
    }
    return layer(index).forward(hidden, inputs, cache, observer);
}

torch::Tensor CausalLM::finalNorm(const torch::Tensor &hidden) const
{
    return rmsNorm(hidden, m_finalNorm, m_config.rmsNormEps);
}

torch::Tensor CausalLM::lmHead(const torch::Tensor &normedHidden) const
{
    return m_lmHead->forward(normedHidden);
}

torch::Tensor CausalLM::forwardHidden(const torch::Tensor &ids, const torch::Tensor &attentionMask,
                                      KVCache *cache, const LinearInputObserver &observer)
{
    return forwardEmbeddings(embed(ids), attentionMask, cache, observer);
}

torch::Tensor CausalLM::forwardEmbeddings(const torch::Tensor &embeddings, const torch::Tensor &attentionMask,
                                          KVCache *cache, const LinearInputObserver &observer)
{
    torch::Tensor hidden = embeddings;
    const LayerInputs inputs = prepareInputs(embeddings.size(0), embeddings.size(1), attentionMask, cache);
    for (int64_t i = 0; i < m_config.numLayers; ++i)
        hidden = runLayer(i, hidden, inputs, cache, observer);
    return finalNorm(hidden);
}

torch::Tensor CausalLM::forward(const torch::Tensor &ids, const torch::Tensor &attentionMask, KVCache *cache,
                                const LinearInputObserver &observer)
{
    return lmHead(forwardHidden(ids, attentionMask, cache, observer));
}

std::vector<std::string> CausalLM::linearNames() const
{
    std::vector<std::string> names;
    for (int64_t i = 0; i < m_config.numLayers; ++i)
        for (const auto &local : DecoderLayer::linearNames())
            names.push_back("model.layers." + std::to_string(i) + "." + local);
    return names;
}

std::shared_ptr<Linear> &CausalLM::linearSlot(const std::string &moduleName)
{
    if (moduleName == "lm_head")
        return m_lmHead;
    const std::string prefix = "model.layers.";
    if (moduleName.rfind(prefix, 0) == 0) {
        const size_t dot = moduleName.find('.', prefix.size());
        const std::string indexText = moduleName.substr(prefix.size(), dot - prefix.size());
        const auto index = parseInt64(indexText);
        if (dot != std::string::npos && index && *index >= 0 && *index < m_config.numLayers)
            return layer(*index).linearSlot(moduleName.substr(dot + 1));
    }
    throw Error("the model has no projection \"" + moduleName + "\" (expected lm_head or model.layers.N.<" +
                "self_attn.q_proj|...|mlp.down_proj> with N below " + std::to_string(m_config.numLayers) +
                ")");
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::namedTensors() const
{
    std::vector<std::pair<std::string, torch::Tensor>> tensors{{"model.embed_tokens.weight", m_embedTokens}};
    for (const auto &layer : m_layers)
        for (auto &named : layer->namedTensors())
            tensors.push_back(std::move(named));
    tensors.emplace_back("model.norm.weight", m_finalNorm);
    if (!m_tied)
        for (const auto &named : m_lmHead->namedTensors())
            tensors.emplace_back("lm_head." + named.first, named.second);
    return tensors;
}

} // namespace emloc::core
