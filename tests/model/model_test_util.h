#pragma once
// Small random Llama-family models held in memory, for tests that need no files.

#include "emloc/io/atomic_file.h"
#include "emloc/io/model_config.h"
#include "emloc/io/model_files.h"
#include "emloc/io/safetensors.h"

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace emloc::test {

// A WeightSource over tensors in a map.
class MemoryWeights : public core::WeightSource
{
public:
    std::map<std::string, torch::Tensor> tensors;

    std::vector<std::string> names() const override
    {
        std::vector<std::string> result;
        for (const auto &entry : tensors)
            result.push_back(entry.first);
        return result;
    }
    bool contains(const std::string &name) const override { return tensors.count(name) > 0; }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        return tensors.at(name).sizes().vec();
    }
    torch::Tensor tensor(const std::string &name) const override { return tensors.at(name).clone(); }
};

// A small GQA config (4 heads, 2 kv heads). `variant`: "llama", "qwen2" (q/k/v bias), "qwen3" (q/k norm),
// "mistral" (sliding window 5).
inline core::ModelConfig smallConfig(const std::string &variant)
{
    core::ModelConfig config;
    config.modelType = variant;
    config.vocabSize = 96;
    config.hiddenSize = 48;
    config.intermediateSize = 112;
    config.numLayers = 3;
    config.numHeads = 4;
    config.numKeyValueHeads = 2;
    config.headDim = 12;
    config.rmsNormEps = 1e-6;
    config.ropeTheta = 10000.0;
    config.attentionBias = variant == "qwen2";
    config.qkNorm = variant == "qwen3";
    config.slidingWindow = variant == "mistral" ? 5 : 0;
    config.tieWordEmbeddings = variant == "qwen2";
    config.eosTokenIds = {2};
    return config;
}

// Random weights for `config` (std 0.2, norms around one) under Hugging Face names.
inline std::shared_ptr<MemoryWeights> randomWeights(const core::ModelConfig &config, uint64_t seed)
{
    torch::manual_seed(seed);
    auto weights = std::make_shared<MemoryWeights>();
    auto &t = weights->tensors;
    const int64_t h = config.hiddenSize, d = config.headDim, q = config.numHeads * d,
                  kv = config.numKeyValueHeads * d, m = config.intermediateSize;
    auto random = [](std::vector<int64_t> shape) { return 0.2 * torch::randn(shape); };
    auto norm = [](int64_t n) { return 1.0 + 0.2 * torch::randn({n}); };
    t["model.embed_tokens.weight"] = torch::randn({config.vocabSize, h});
    t["model.norm.weight"] = norm(h);
    if (!config.tieWordEmbeddings)
        t["lm_head.weight"] = random({config.vocabSize, h});
    for (int64_t i = 0; i < config.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t[p + "self_attn.q_proj.weight"] = random({q, h});
        t[p + "self_attn.k_proj.weight"] = random({kv, h});
        t[p + "self_attn.v_proj.weight"] = random({kv, h});
        t[p + "self_attn.o_proj.weight"] = random({h, q});
        t[p + "mlp.gate_proj.weight"] = random({m, h});
        t[p + "mlp.up_proj.weight"] = random({m, h});
        t[p + "mlp.down_proj.weight"] = random({h, m});
        t[p + "input_layernorm.weight"] = norm(h);
        t[p + "post_attention_layernorm.weight"] = norm(h);
        if (config.attentionBias) {
            t[p + "self_attn.q_proj.bias"] = random({q});
            t[p + "self_attn.k_proj.bias"] = random({kv});
            t[p + "self_attn.v_proj.bias"] = random({kv});
        }
        if (config.qkNorm) {
            t[p + "self_attn.q_norm.weight"] = norm(d);
            t[p + "self_attn.k_norm.weight"] = norm(d);
        }
    }
    return weights;
}

inline double maxAbsDiff(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// config.json + model.safetensors (tensors cast to `dtype`) of a model held in memory.
inline void writeModelFolder(const std::string &dir, const core::ModelConfig &config,
                             const core::WeightSource &weights, torch::ScalarType dtype = torch::kFloat32)
{
    std::filesystem::create_directories(dir);
    core::writeFileAtomically(dir + "/config.json", core::modelConfigToJson(config).dump(2));
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto &name : weights.names())
        tensors.emplace_back(name, weights.tensor(name).to(dtype).contiguous());
    core::writeSafetensors(dir + "/model.safetensors", tensors);
}

} // namespace emloc::test
