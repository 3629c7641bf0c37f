#include "emloc/io/model_config.h"
#include "emloc/io/dtype.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace emloc::core {

namespace {
const std::vector<std::string> kSupportedTypes = {"llama", "mistral", "qwen2", "qwen3"};

// Reads config.json fields with messages that name the file and the field. JSON null counts as absent:
// transformers writes null for unset optional fields (sliding_window, bos_token_id).
class FieldReader
{
public:
    FieldReader(const nlohmann::json &object, std::string sourceName, std::string prefix = {})
        : m_object(object), m_source(std::move(sourceName)), m_prefix(std::move(prefix))
    {}

    bool has(const char *field) const
    {
        const auto it = m_object.find(field);
        return it != m_object.end() && !it->is_null();
    }

    int64_t requiredInt(const char *field) const
    {
        if (!has(field))
            throw Error(m_source + ": the required field '" + name(field) + "' is missing");
        return integer(field);
    }

    int64_t positiveInt(const char *field) const
    {
        const int64_t value = requiredInt(field);
        if (value <= 0)
            throw Error(m_source + ": '" + name(field) + "' must be positive, found " +
                        std::to_string(value));
        return value;
    }

    int64_t optionalInt(const char *field, int64_t fallback) const
    {
        return has(field) ? integer(field) : fallback;
    }

    double optionalDouble(const char *field, double fallback) const
    {
        if (!has(field))
            return fallback;
        const nlohmann::json &value = m_object.at(field);
        if (!value.is_number())
            throw Error(m_source + ": '" + name(field) + "' must be a number, found " + value.dump());
        return value.get<double>();
    }

    bool optionalBool(const char *field, bool fallback) const
    {
        if (!has(field))
            return fallback;
        const nlohmann::json &value = m_object.at(field);
        if (!value.is_boolean())
            throw Error(m_source + ": '" + name(field) + "' must be true or false, found " + value.dump());
        return value.get<bool>();
    }

    std::string optionalString(const char *field, const std::string &fallback) const
    {
        if (!has(field))
            return fallback;
        const nlohmann::json &value = m_object.at(field);
        if (!value.is_string())
            throw Error(m_source + ": '" + name(field) + "' must be a string, found " + value.dump());
        return value.get<std::string>();
    }

    std::vector<int64_t> intOrIntList(const char *field) const
    {
        if (!has(field))
            return {};
        const nlohmann::json &value = m_object.at(field);
        if (value.is_number_integer())
            return {value.get<int64_t>()};
        std::vector<int64_t> result;
        if (value.is_array()) {
            for (const nlohmann::json &item : value) {
                if (!item.is_number_integer())
                    break;
                result.push_back(item.get<int64_t>());
            }
            if (result.size() == value.size())
                return result;
        }
        throw Error(m_source + ": '" + name(field) + "' must be an integer or a list of integers, found " +
                    value.dump());
    }

    const std::string &source() const { return m_source; }

private:
    std::string name(const char *field) const { return m_prefix + field; }

    int64_t integer(const char *field) const
    {
        const nlohmann::json &value = m_object.at(field);
        // 4096.0 is still a size; 4096.5 is not, nor is a number beyond 64 bits (casting one is undefined
        // behaviour: found by fuzz_model_config).
        if (value.is_number_float()) {
            const double number = value.get<double>();
            if (std::fabs(number) < 9.2e18 && number == std::trunc(number))
                return static_cast<int64_t>(number);
        }
        if (!value.is_number_integer() ||
            (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)))
            throw Error(m_source + ": '" + name(field) + "' must be an integer below 2^63, found " +
                        value.dump());
        return value.get<int64_t>();
    }

    const nlohmann::json &m_object;
    std::string m_source;
    std::string m_prefix;
};

// transformers 5 writes `rope_parameters` (rope_theta inside it); earlier versions write a top-level
// `rope_theta` and an optional `rope_scaling`. Both spellings occur in the wild.
void parseRope(const nlohmann::json &config, const FieldReader &fields, ModelConfig &result)
{
    result.ropeTheta = fields.optionalDouble("rope_theta", 10000.0);
    const char *scalingField = nullptr;
    for (const char *candidate : {"rope_parameters", "rope_scaling"}) {
        if (fields.has(candidate)) {
            scalingField = candidate;
            break;
        }
    }
    if (!scalingField)
        return;
    const nlohmann::json &scaling = config.at(scalingField);
    if (!scaling.is_object())
        throw Error(fields.source() + ": '" + scalingField + "' must be an object, found " + scaling.dump());
    const FieldReader rope(scaling, fields.source(), std::string(scalingField) + ".");
    result.ropeTheta = rope.optionalDouble("rope_theta", result.ropeTheta);
    std::string type = rope.optionalString("rope_type", rope.optionalString("type", "default"));
    if (type == "default" || type.empty())
        return;
    if (type != "llama3" && type != "linear")
        throw Error(fields.source() + ": RoPE scaling type '" + type +
                    "' is not supported (supported: llama3, linear, or none)");
    result.ropeScaling.type = type;
    result.ropeScaling.factor = rope.optionalDouble("factor", 1.0);
    if (!(result.ropeScaling.factor > 0.0))
        throw Error(fields.source() + ": '" + scalingField + ".factor' must be positive");
    if (type == "llama3") {
        result.ropeScaling.lowFreqFactor = rope.optionalDouble("low_freq_factor", 1.0);
        result.ropeScaling.highFreqFactor = rope.optionalDouble("high_freq_factor", 4.0);
        result.ropeScaling.originalMaxPositionEmbeddings =
            rope.optionalInt("original_max_position_embeddings", 8192);
        if (!(result.ropeScaling.highFreqFactor > result.ropeScaling.lowFreqFactor))
            throw Error(fields.source() + ": '" + scalingField +
                        "' needs high_freq_factor greater than low_freq_factor");
    }
}

// Mistral slides every layer; Qwen2/Qwen3 slide only the layers from max_window_layers on (or those
// `layer_types` marks), and only when use_sliding_window is set.
int64_t parseSlidingWindow(const nlohmann::json &config, const FieldReader &fields, const ModelConfig &result)
{
    if (result.modelType == "mistral")
        return std::max<int64_t>(0, fields.optionalInt("sliding_window", 0));
    if (result.modelType != "qwen2" && result.modelType != "qwen3")
        return 0;
    if (!fields.optionalBool("use_sliding_window", false) || !fields.has("sliding_window"))
        return 0;
    const int64_t window = fields.optionalInt("sliding_window", 0);
    int64_t slidingLayers = 0;
    if (fields.has("layer_types") && config.at("layer_types").is_array()) {
        for (const nlohmann::json &type : config.at("layer_types"))
            slidingLayers += type == "sliding_attention" ? 1 : 0;
    } else {
        const int64_t first = fields.optionalInt("max_window_layers", 28);
        slidingLayers = std::max<int64_t>(0, result.numLayers - std::max<int64_t>(0, first));
    }
    if (slidingLayers == 0)
        return 0;
    if (slidingLayers != result.numLayers)
        throw Error(fields.source() +
                    ": sliding-window attention on only some layers (use_sliding_window with "
                    "max_window_layers/layer_types) is not supported; set use_sliding_window "
                    "to false or slide all layers");
    return window;
}

std::string normaliseDtype(std::string dtype)
{
    if (const std::optional<torch::ScalarType> type = floatDtypeFromName(dtype))
        return hfDtypeName(*type);
    if (dtype.rfind("torch.", 0) == 0)
        dtype = dtype.substr(6);
    return dtype; // an integer or 8-bit type: the readers of weights say what they support
}

std::string architectureOf(const std::string &modelType)
{
    if (modelType == "llama")
        return "LlamaForCausalLM";
    if (modelType == "mistral")
        return "MistralForCausalLM";
    if (modelType == "qwen2")
        return "Qwen2ForCausalLM";
    return "Qwen3ForCausalLM";
}
} // namespace

std::string supportedModelTypes()
{
    std::string list;
    for (const std::string &type : kSupportedTypes)
        list += (list.empty() ? "" : ", ") + type;
    return list;
}

bool isVisionLanguageConfig(const nlohmann::json &config)
{
    if (!config.is_object())
        return false;
    if (config.contains("vision_config") || config.contains("llm_config") || config.contains("visual"))
        return true;
    const auto modelType = config.find("model_type");
    if (modelType != config.end() && modelType->is_string() &&
        modelType->get<std::string>().find("internvl") == 0)
        return true;
    const auto architectures = config.find("architectures");
    if (architectures == config.end() || !architectures->is_array() || architectures->empty() ||
        !architectures->front().is_string())
        return false;
    const std::string architecture = architectures->front().get<std::string>();
    for (const char *marker : {"VL", "Vision", "Llava"})
        if (architecture.find(marker) != std::string::npos)
            return true;
    return false;
}

ModelConfig parseModelConfig(const nlohmann::json &config, const std::string &sourceName)
{
    if (!config.is_object())
        throw Error(sourceName + ": a model config must be a JSON object");
    const FieldReader fields(config, sourceName);
    ModelConfig result;
    result.raw = config;

    if (!fields.has("model_type"))
        throw Error(sourceName + ": the required field 'model_type' is missing (supported: " +
                    supportedModelTypes() + ")");
    result.modelType = fields.optionalString("model_type", "");
    if (std::find(kSupportedTypes.begin(), kSupportedTypes.end(), result.modelType) == kSupportedTypes.end())
        throw Error(sourceName + ": model_type '" + result.modelType +
                    "' is not supported; supported types are " + supportedModelTypes());

    result.vocabSize = fields.positiveInt("vocab_size");
    result.hiddenSize = fields.positiveInt("hidden_size");
    result.intermediateSize = fields.positiveInt("intermediate_size");
    result.numLayers = fields.positiveInt("num_hidden_layers");
    result.numHeads = fields.positiveInt("num_attention_heads");
    result.numKeyValueHeads = fields.optionalInt("num_key_value_heads", result.numHeads);
    if (result.numKeyValueHeads <= 0 || result.numHeads % result.numKeyValueHeads != 0)
        throw Error(sourceName + ": num_key_value_heads (" + std::to_string(result.numKeyValueHeads) +
                    ") must be positive and divide num_attention_heads (" + std::to_string(result.numHeads) +
                    ")");
    if (fields.has("head_dim")) {
        result.headDim = fields.positiveInt("head_dim");
    } else {
        if (result.hiddenSize % result.numHeads != 0)
            throw Error(sourceName + ": hidden_size (" + std::to_string(result.hiddenSize) +
                        ") is not a multiple of num_attention_heads (" + std::to_string(result.numHeads) +
                        ") and no head_dim is given");
        result.headDim = result.hiddenSize / result.numHeads;
    }
    if (result.headDim % 2 != 0)
        throw Error(sourceName + ": head_dim " + std::to_string(result.headDim) + " must be even for RoPE");
    result.maxPositionEmbeddings = fields.optionalInt("max_position_embeddings", 2048);
    result.rmsNormEps = fields.optionalDouble("rms_norm_eps", 1e-6);

    const std::string activation = fields.optionalString("hidden_act", "silu");
    if (activation != "silu")
        throw Error(sourceName + ": hidden_act '" + activation + "' is not supported (only silu)");
    if (fields.optionalBool("mlp_bias", false))
        throw Error(sourceName + ": mlp_bias true is not supported (only bias-free MLPs)");

    // Qwen2 always has q/k/v biases (and no o_proj bias); in Llama and Qwen3 attention_bias would
    // also put a bias on o_proj, which the engine does not model.
    if (result.modelType == "qwen2") {
        result.attentionBias = true;
    } else if (fields.optionalBool("attention_bias", false)) {
        throw Error(sourceName + ": attention_bias true is not supported for " + result.modelType +
                    " (it adds an o_proj bias)");
    }
    result.qkNorm = result.modelType == "qwen3";
    result.tieWordEmbeddings = fields.optionalBool("tie_word_embeddings", false);

    parseRope(config, fields, result);
    result.slidingWindow = parseSlidingWindow(config, fields, result);

    result.bosTokenId = fields.optionalInt("bos_token_id", -1);
    result.eosTokenIds = fields.intOrIntList("eos_token_id");
    const std::string dtype = fields.optionalString("dtype", fields.optionalString("torch_dtype", "float32"));
    result.torchDtype = normaliseDtype(dtype);
    return result;
}

ModelConfig loadModelConfig(const std::string &configJsonPath)
{
    const std::string text = readTextFile(configJsonPath);
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        throw Error(configJsonPath + ": not valid JSON (" + e.what() + ")");
    }
    return parseModelConfig(config, configJsonPath);
}

nlohmann::json modelConfigToJson(const ModelConfig &config)
{
    // Start from the original so fields the engine does not model (pad_token_id, ...) survive an export.
    nlohmann::json json = config.raw.is_object() ? config.raw : nlohmann::json::object();
    json["architectures"] = {architectureOf(config.modelType)};
    json["model_type"] = config.modelType;
    json["vocab_size"] = config.vocabSize;
    json["hidden_size"] = config.hiddenSize;
    json["intermediate_size"] = config.intermediateSize;
    json["num_hidden_layers"] = config.numLayers;
    json["num_attention_heads"] = config.numHeads;
    json["num_key_value_heads"] = config.numKeyValueHeads;
    json["head_dim"] = config.headDim;
    json["max_position_embeddings"] = config.maxPositionEmbeddings;
    json["rms_norm_eps"] = config.rmsNormEps;
    json["hidden_act"] = "silu";
    json["tie_word_embeddings"] = config.tieWordEmbeddings;
    if (config.modelType != "qwen2")
        json["attention_bias"] = false;
    json["bos_token_id"] =
        config.bosTokenId >= 0 ? nlohmann::json(config.bosTokenId) : nlohmann::json(nullptr);
    if (config.eosTokenIds.empty())
        json["eos_token_id"] = nullptr;
    else if (config.eosTokenIds.size() == 1)
        json["eos_token_id"] = config.eosTokenIds.front();
    else
        json["eos_token_id"] = config.eosTokenIds;
    json[json.contains("dtype") ? "dtype" : "torch_dtype"] = config.torchDtype;

    nlohmann::json scaling = nlohmann::json::object();
    if (!config.ropeScaling.type.empty()) {
        scaling["rope_type"] = config.ropeScaling.type;
        scaling["factor"] = config.ropeScaling.factor;
        if (config.ropeScaling.type == "llama3") {
            scaling["low_freq_factor"] = config.ropeScaling.lowFreqFactor;
            scaling["high_freq_factor"] = config.ropeScaling.highFreqFactor;
            scaling["original_max_position_embeddings"] = config.ropeScaling.originalMaxPositionEmbeddings;
        }
    }
    if (json.contains("rope_parameters") && json["rope_parameters"].is_object()) {
        nlohmann::json parameters = scaling;
        parameters["rope_theta"] = config.ropeTheta;
        if (config.ropeScaling.type.empty())
            parameters["rope_type"] = "default";
        json["rope_parameters"] = parameters;
        json.erase("rope_scaling");
    } else {
        // The spelling every transformers version (and llama.cpp's converter) reads.
        json["rope_theta"] = config.ropeTheta;
        if (config.ropeScaling.type.empty()) {
            json["rope_scaling"] = nullptr;
        } else {
            scaling["type"] = config.ropeScaling.type;
            json["rope_scaling"] = scaling;
        }
    }

    if (config.modelType == "mistral") {
        json["sliding_window"] =
            config.slidingWindow > 0 ? nlohmann::json(config.slidingWindow) : nlohmann::json(nullptr);
    } else if (config.modelType == "qwen2" || config.modelType == "qwen3") {
        json["use_sliding_window"] = config.slidingWindow > 0;
        json["sliding_window"] =
            config.slidingWindow > 0 ? nlohmann::json(config.slidingWindow) : nlohmann::json(nullptr);
        if (config.slidingWindow > 0) {
            json["max_window_layers"] = 0;
            json["layer_types"] = std::vector<std::string>(config.numLayers, "sliding_attention");
        } else if (json.contains("layer_types")) {
            json["layer_types"] = std::vector<std::string>(config.numLayers, "full_attention");
        }
    }
    return json;
}

int64_t ModelConfig::embeddingParameters() const
{
    return vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2);
}

int64_t ModelConfig::parametersPerLayer() const
{
    const int64_t queryWidth = numHeads * headDim;
    const int64_t keyValueWidth = numKeyValueHeads * headDim;
    int64_t attention = hiddenSize * (queryWidth + 2 * keyValueWidth) + queryWidth * hiddenSize;
    if (attentionBias)
        attention += queryWidth + 2 * keyValueWidth;
    if (qkNorm)
        attention += 2 * headDim;
    const int64_t mlp = 3 * hiddenSize * intermediateSize;
    const int64_t norms = 2 * hiddenSize;
    return attention + mlp + norms;
}

int64_t ModelConfig::totalParameters() const
{
    return embeddingParameters() + numLayers * parametersPerLayer() + hiddenSize; // + the final norm
}

} // namespace emloc::core
