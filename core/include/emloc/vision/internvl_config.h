#pragma once
// What an InternVL checkpoint's config.json says about its three parts: the InternViT vision tower, the
// MLP projector and the language model. Two layouts are read: the original one OpenGVLab publishes
// (`InternVLChatModel`: vision_config / llm_config) and transformers' native one (`-hf` repositories,
// `InternVLForConditionalGeneration`: vision_config / text_config).

#include "emloc/io/model_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace emloc::core {

struct VisionTowerConfig
{
    int64_t hiddenSize = 0;
    int64_t numHeads = 0;
    int64_t intermediateSize = 0;
    int64_t numLayers = 0;  // in the checkpoint
    int64_t usedLayers = 0; // run up to the layer whose output feeds the projector (select_layer)
    int64_t patchSize = 14;
    int64_t positionGrid = 0; // the learned position embedding covers positionGrid^2 patches
    bool qkvBias = true;
    bool qkNorm = false;
    std::string normType = "layer_norm"; // or "rms_norm" (InternViT-6B)
    double normEps = 1e-6;
    std::string activation = "gelu"; // exact GELU; "gelu_pytorch_tanh" is the tanh approximation
    bool finalNorm = false;          // a LayerNorm after the last layer (-hf layout without mean pooling)
};

struct InternVLConfig
{
    std::string layout; // "original" or "hf"
    std::string
        languageFamily; // the language model as the checkpoint names it: qwen2, qwen3, llama, internlm2
    VisionTowerConfig vision;
    ModelConfig language;        // the decoder as the engine runs it (InternLM2 runs as llama)
    int64_t unshuffleFactor = 2; // 1 / downsample_ratio: pixel-unshuffle merges factor^2 patches per token
    std::string projectorActivation = "gelu";
    int64_t imageTokenId = -1; // hf: config.json's image_token_id; original: "<IMG_CONTEXT>" in the tokenizer
    nlohmann::json raw;

    // Language-model tokens one tile of tileSize pixels becomes.
    int64_t tokensPerTile(int64_t tileSize) const;
};

// A config.json of an InternVL checkpoint in either layout.
bool isInternVLConfig(const nlohmann::json &config);
// The model families the vision-language path runs, for messages.
std::string supportedVisionLanguageModels();

// Error names `sourceName` and the field that is missing, mistyped or unsupported; a vision-language
// model of another family is refused naming what is supported.
InternVLConfig parseInternVLConfig(const nlohmann::json &config, const std::string &sourceName);

} // namespace emloc::core
