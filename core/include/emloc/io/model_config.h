#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

// RoPE frequency scaling as config.json's `rope_scaling` states it ("llama3" is the one Llama 3.1/3.2
// use; "linear" is the plain position interpolation). type "" means none.
struct RopeScaling
{
    std::string type;
    double factor = 1.0;
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    int64_t originalMaxPositionEmbeddings = 8192;
};

// The decoder's shape, read from a Hugging Face config.json (llama, mistral, qwen2, qwen3) or built
// from GGUF metadata. Everything the engine needs to run or size a model.
struct ModelConfig
{
    std::string modelType; // "llama", "mistral", "qwen2", "qwen3"
    int64_t vocabSize = 0;
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKeyValueHeads = 0;
    int64_t headDim = 0; // hidden / heads unless the config says otherwise
    int64_t maxPositionEmbeddings = 2048;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    RopeScaling ropeScaling;
    bool tieWordEmbeddings = false;
    bool attentionBias = false; // q/k/v biases (qwen2)
    bool qkNorm = false;        // per-head RMSNorm of q and k (qwen3)
    int64_t slidingWindow = 0;  // 0: none (mistral may set one; applied when shorter than the input)
    int64_t bosTokenId = -1;
    std::vector<int64_t> eosTokenIds;
    std::string torchDtype = "float32"; // as stored: "float32", "float16", "bfloat16"
    nlohmann::json raw;                 // the original config.json, written back on export

    // Parameters by kind, for `emloc info` and the planner. Embeddings count the output head too
    // unless it is tied; the total adds the final norm.
    int64_t embeddingParameters() const;
    int64_t parametersPerLayer() const;
    int64_t totalParameters() const;
};

// The model types the engine runs, for error messages: "llama, mistral, qwen2, qwen3".
std::string supportedModelTypes();

// A config.json of a vision-language model (InternVL or another family: a vision part, or a name that
// says so). Such a folder is opened by vision/vision_language_model.h, never as a text model.
bool isVisionLanguageConfig(const nlohmann::json &config);

// Parses a config.json object; Error names `sourceName` and the field that is missing, mistyped or
// unsupported (an unsupported model_type lists the supported ones).
ModelConfig parseModelConfig(const nlohmann::json &config, const std::string &sourceName);
ModelConfig loadModelConfig(const std::string &configJsonPath);

// The config.json to write for this model (transformers-compatible).
nlohmann::json modelConfigToJson(const ModelConfig &config);

} // namespace emloc::core
