#pragma once

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/model/kv_cache.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

// "fp32", "bf16", "fp16" or "auto" (float32 on the CPU, bfloat16 on CUDA). Error names the value and
// the accepted ones; half precision on the CPU is refused (slow and inexact there).
torch::ScalarType parseComputeDtype(const std::string &text, torch::Device device);

struct CausalLMOptions
{
    TensorPlacement placement;
    // Keep no decoder layer resident: runLayer() reads layer i from the weights, runs it and frees it.
    // For calibration and conversion within the memory of one layer.
    bool streamLayers = false;
};

// A Llama-family causal language model (embeddings, decoder layers, final norm, lm_head tied or not)
// run with LibTorch, matching transformers' forward. Not thread-safe: one thread runs it at a time.
class CausalLM
{
public:
    // Reads the weights from `files` (feedback: progress "load" per layer and checkpoint for cancel).
    CausalLM(const ModelFiles &files, const CausalLMOptions &options = {}, Feedback *feedback = nullptr);
    CausalLM(const ModelConfig &config, std::shared_ptr<WeightSource> weights,
             const CausalLMOptions &options = {}, Feedback *feedback = nullptr);

    const ModelConfig &config() const { return m_config; }
    const TensorPlacement &placement() const { return m_options.placement; }
    int64_t numLayers() const { return m_config.numLayers; }

    // ids [B, T] int64; attentionMask [B, T] (1 token, 0 padding; undefined: none). With a cache the
    // step continues the cached sequence. Returns logits [B, T, vocab] in the compute dtype.
    torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &attentionMask = {},
                          KVCache *cache = nullptr, const LinearInputObserver &observer = {});
    // The same up to the final norm: [B, T, hidden].
    torch::Tensor forwardHidden(const torch::Tensor &ids, const torch::Tensor &attentionMask = {},
                                KVCache *cache = nullptr, const LinearInputObserver &observer = {});
    // forwardHidden() from given input embeddings [B, T, hidden] (a vision-language model's, with its
    // images' rows in them) instead of the tokens'.
    torch::Tensor forwardEmbeddings(const torch::Tensor &embeddings, const torch::Tensor &attentionMask = {},
                                    KVCache *cache = nullptr, const LinearInputObserver &observer = {});
    std::unique_ptr<KVCache> makeCache() const { return std::make_unique<KVCache>(m_config.numLayers); }

    // The pieces of forward(), for running the model one layer at a time.
    torch::Tensor embed(const torch::Tensor &ids) const;
    LayerInputs prepareInputs(int64_t batch, int64_t length, const torch::Tensor &attentionMask = {},
                              KVCache *cache = nullptr) const;
    torch::Tensor runLayer(int64_t index, const torch::Tensor &hidden, const LayerInputs &inputs,
                           KVCache *cache = nullptr, const LinearInputObserver &observer = {});
    torch::Tensor finalNorm(const torch::Tensor &hidden) const;
    torch::Tensor lmHead(const torch::Tensor &normedHidden) const;

    // Resident layer i (Error when streaming); a streamed one is read by loadLayer().
    DecoderLayer &layer(int64_t index);
    std::unique_ptr<DecoderLayer> loadLayer(int64_t index) const;
    const RotaryEmbedding &rope() const { return m_rope; }
    const std::shared_ptr<WeightSource> &weights() const { return m_weights; }

    // Every decoder projection by full Hugging Face module name, in layer and forward order.
    std::vector<std::string> linearNames() const;
    // The slot of "model.layers.3.self_attn.q_proj" or "lm_head"; assign to swap the projection.
    // Error names the module and says why (unknown name, or layers streamed).
    std::shared_ptr<Linear> &linearSlot(const std::string &moduleName);
    bool tiedEmbeddings() const { return m_tied; }
    // Resident tensors under Hugging Face names (a tied lm_head is listed once, as the embeddings).
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const;

private:
    void load(Feedback *feedback);

    ModelConfig m_config;
    std::shared_ptr<WeightSource> m_weights;
    CausalLMOptions m_options;
    RotaryEmbedding m_rope;
    torch::Tensor m_embedTokens;
    std::vector<std::unique_ptr<DecoderLayer>> m_layers;
    torch::Tensor m_finalNorm;
    std::shared_ptr<Linear> m_lmHead;
    bool m_tied = false;
};

} // namespace emloc::core
