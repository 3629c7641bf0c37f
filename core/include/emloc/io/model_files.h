#pragma once

#include "emloc/io/model_config.h"

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace emloc::core {

// Weights by their Hugging Face names ("model.layers.3.self_attn.q_proj.weight"), whatever the file
// format underneath. Reads are lazy: one decoder layer can be read without the rest. Returned
// tensors own their memory; quantized GGUF blocks are dequantised to float32.
class WeightSource
{
public:
    virtual ~WeightSource() = default;
    virtual std::vector<std::string> names() const = 0;
    virtual bool contains(const std::string &name) const = 0;
    virtual std::vector<int64_t> shape(const std::string &name) const = 0;
    // Error names the file and the tensor when it is missing or unreadable.
    virtual torch::Tensor tensor(const std::string &name) const = 0;
    // How the tensor is stored in its file, as the format spells it ("Q4_1", "BF16"); empty for weights
    // that come from no file (computed, merged, in memory).
    virtual std::string storedType(const std::string &name) const
    {
        (void)name;
        return {};
    }
};

// Everything a model folder or GGUF file gives: its config, its weights, and its tokenizer and chat
// metadata as Hugging Face files would hold them (tokenizer.json and tokenizer_config.json content,
// generation_config.json content; empty objects when absent).
struct ModelFiles
{
    std::string path;   // as given by the user
    std::string format; // "hf" or "gguf"
    ModelConfig config;
    std::shared_ptr<WeightSource> weights;
    nlohmann::json tokenizerJson;
    nlohmann::json tokenizerConfig;
    nlohmann::json generationConfig;
};

// Opens a Hugging Face folder (config.json + safetensors) or a .gguf file. Throws Error naming the
// path and what is missing or wrong, and what to do.
ModelFiles openModel(const std::string &path);

} // namespace emloc::core
