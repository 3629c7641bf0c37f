#include "emloc/vision/internvl_config.h"

#include "emloc/api/error.h"

#include <cmath>

namespace emloc::core {

namespace {

// A string member, or "" when it is missing or not a string (messages and detection only: the readers
// below refuse a mistyped field by name).
std::string stringMember(const nlohmann::json &object, const char *key)
{
    const auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::string architectureOf(const nlohmann::json &config)
{
    const auto found = config.find("architectures");
    if (found != config.end() && found->is_array() && !found->empty() && found->front().is_string())
        return found->front().get<std::string>();
    return {};
}

// Reads one section of config.json ("vision_config", ...) with messages naming the file and the key.
class Section
{
public:
    Section(const nlohmann::json &config, const std::string &source, const std::string &key)
        : m_source(source), m_prefix(key.empty() ? std::string() : key + ".")
    {
        if (key.empty()) {
            m_object = &config;
            return;
        }
        const auto found = config.find(key);
        if (found == config.end() || !found->is_object())
            throw Error(source + ": the vision-language config has no \"" + key +
                        "\" object; the file is incomplete or not an InternVL config");
        m_object = &*found;
    }

    const nlohmann::json &object() const { return *m_object; }

    bool has(const char *key) const
    {
        const auto found = m_object->find(key);
        return found != m_object->end() && !found->is_null();
    }

    int64_t positive(const char *key) const
    {
        if (!has(key))
            throw Error(m_source + ": the required field '" + m_prefix + key + "' is missing");
        return positiveValue(key, m_object->at(key));
    }

    // An int, or a [height, width] pair of equal ints (transformers writes image and patch sizes so).
    int64_t square(const char *key, int64_t fallback) const
    {
        if (!has(key))
            return fallback;
        const nlohmann::json &value = m_object->at(key);
        if (value.is_array()) {
            if (value.size() != 2 || value[0] != value[1])
                throw Error(m_source + ": '" + m_prefix + key +
                            "' must be one size or two equal ones, found " + value.dump() +
                            " (only square tiles and patches are supported)");
            return positiveValue(key, value[0]);
        }
        return positiveValue(key, value);
    }

    int64_t integer(const char *key, int64_t fallback) const
    {
        if (!has(key))
            return fallback;
        const nlohmann::json &value = m_object->at(key);
        if (!value.is_number_integer())
            throw Error(m_source + ": '" + m_prefix + key + "' must be a whole number, found " +
                        value.dump() +
                        (value.is_array() ? " (features from several layers are not supported)" : ""));
        return value.get<int64_t>();
    }

    double number(const char *key, double fallback) const
    {
        if (!has(key))
            return fallback;
        const nlohmann::json &value = m_object->at(key);
        if (!value.is_number())
            throw Error(m_source + ": '" + m_prefix + key + "' must be a number, found " + value.dump());
        return value.get<double>();
    }

    bool flag(const char *key, bool fallback) const
    {
        if (!has(key))
            return fallback;
        const nlohmann::json &value = m_object->at(key);
        if (!value.is_boolean())
            throw Error(m_source + ": '" + m_prefix + key + "' must be true or false, found " + value.dump());
        return value.get<bool>();
    }

    std::string text(const char *key, const std::string &fallback) const
    {
        if (!has(key))
            return fallback;
        const nlohmann::json &value = m_object->at(key);
        if (!value.is_string())
            throw Error(m_source + ": '" + m_prefix + key + "' must be a string, found " + value.dump());
        return value.get<std::string>();
    }

    [[noreturn]] void unsupported(const char *key, const std::string &what) const
    {
        throw Error(m_source + ": '" + m_prefix + key + "' " + what);
    }

private:
    int64_t positiveValue(const char *key, const nlohmann::json &value) const
    {
        if (!value.is_number_integer() || value.get<int64_t>() <= 0)
            throw Error(m_source + ": '" + m_prefix + key + "' must be a positive whole number, found " +
                        value.dump());
        return value.get<int64_t>();
    }

    const nlohmann::json *m_object = nullptr;
    std::string m_source;
    std::string m_prefix;
};

std::string checkedActivation(const Section &section, const char *key)
{
    const std::string activation = section.text(key, "gelu");
    if (activation != "gelu" && activation != "gelu_pytorch_tanh")
        section.unsupported(key, "is \"" + activation + "\"; supported: gelu, gelu_pytorch_tanh");
    return activation;
}

VisionTowerConfig parseVisionTower(const Section &vision, bool original, int64_t selectLayer)
{
    VisionTowerConfig tower;
    tower.hiddenSize = vision.positive("hidden_size");
    tower.numHeads = vision.positive("num_attention_heads");
    tower.intermediateSize = vision.positive("intermediate_size");
    tower.numLayers = vision.positive("num_hidden_layers");
    if (tower.hiddenSize % tower.numHeads != 0)
        vision.unsupported("num_attention_heads", "(" + std::to_string(tower.numHeads) +
                                                      ") must divide hidden_size (" +
                                                      std::to_string(tower.hiddenSize) + ")");
    tower.patchSize = vision.square("patch_size", 14);
    const int64_t imageSize = vision.square("image_size", original ? 224 : 448);
    if (imageSize % tower.patchSize != 0)
        vision.unsupported("image_size", "(" + std::to_string(imageSize) +
                                             ") is not a multiple of patch_size (" +
                                             std::to_string(tower.patchSize) + ")");
    tower.positionGrid = imageSize / tower.patchSize;
    // The defaults are each layout's own: InternVisionConfig's (6B-style) and InternVLVisionConfig's.
    tower.qkvBias = vision.flag(original ? "qkv_bias" : "attention_bias", false);
    tower.qkNorm = vision.flag(original ? "qk_normalization" : "use_qk_norm", original);
    tower.normType = vision.text("norm_type", original ? "rms_norm" : "layer_norm");
    if (tower.normType != "layer_norm" && tower.normType != "rms_norm")
        vision.unsupported("norm_type", "is \"" + tower.normType + "\"; supported: layer_norm, rms_norm");
    tower.normEps = vision.number("layer_norm_eps", 1e-6);
    tower.activation = checkedActivation(vision, "hidden_act");
    // transformers' tower ends in a LayerNorm unless it mean-pools (InternVL checkpoints do).
    tower.finalNorm = !original && !vision.flag("use_mean_pooling", true);
    if (!original && !vision.flag("use_absolute_position_embeddings", true))
        vision.unsupported("use_absolute_position_embeddings",
                           "is false; InternViT needs its position embedding");
    tower.usedLayers = selectLayer < 0 ? tower.numLayers + 1 + selectLayer : selectLayer;
    if (tower.usedLayers < 1 || tower.usedLayers > tower.numLayers)
        throw Error("the selected vision feature layer " + std::to_string(selectLayer) +
                    " does not exist in a " + std::to_string(tower.numLayers) + "-layer vision tower");
    return tower;
}

// InternLM2 is a Llama decoder with q, k and v fused into one `wqkv` (split when the weights are read):
// its config becomes a llama one.
nlohmann::json internLM2AsLlama(const Section &llm)
{
    if (llm.flag("bias", false))
        llm.unsupported("bias", "is true; InternLM2 with attention and MLP biases is not supported");
    nlohmann::json llama = llm.object();
    llama["model_type"] = "llama";
    llama["architectures"] = {"LlamaForCausalLM"};
    llama.erase("bias");
    llama.erase("auto_map");
    // InternLM2's "dynamic" scaling changes nothing within max_position_embeddings, the length the
    // engine allows; any other scaling goes to the decoder's own checks.
    if (llama.contains("rope_scaling") && llama["rope_scaling"].is_object() &&
        stringMember(llama["rope_scaling"], "type") == "dynamic")
        llama.erase("rope_scaling");
    return llama;
}

} // namespace

int64_t InternVLConfig::tokensPerTile(int64_t tileSize) const
{
    const int64_t side = tileSize / vision.patchSize / unshuffleFactor;
    return side * side;
}

bool isInternVLConfig(const nlohmann::json &config)
{
    if (!config.is_object())
        return false;
    const std::string modelType = stringMember(config, "model_type");
    const std::string architecture = architectureOf(config);
    return modelType == "internvl_chat" || modelType == "internvl" || architecture == "InternVLChatModel" ||
           architecture == "InternVLForConditionalGeneration";
}

std::string supportedVisionLanguageModels()
{
    return "InternVL 2.5, 3 and 3.5 (InternVLChatModel, or InternVLForConditionalGeneration from the -hf "
           "repositories) with a qwen2, qwen3, llama or internlm2 language model";
}

InternVLConfig parseInternVLConfig(const nlohmann::json &config, const std::string &sourceName)
{
    if (!isInternVLConfig(config)) {
        const std::string architecture = architectureOf(config);
        const std::string name = !architecture.empty() ? architecture : stringMember(config, "model_type");
        if (name.empty())
            throw Error(sourceName +
                        ": a vision-language model of unknown kind (no architectures or model_type); "
                        "supported: " +
                        supportedVisionLanguageModels());
        throw Error(sourceName + ": '" + name +
                    "' is a vision-language model EMLoC Studio does not run; supported: " +
                    supportedVisionLanguageModels());
    }
    const Section top(config, sourceName, "");
    InternVLConfig result;
    result.raw = config;
    const bool original = config.contains("llm_config");
    result.layout = original ? "original" : "hf";

    const double ratio = top.number("downsample_ratio", 0.5);
    const double factor = 1.0 / ratio;
    if (!(ratio > 0.0) || std::fabs(factor - std::round(factor)) > 1e-9)
        top.unsupported("downsample_ratio", "must be 1 / a whole number, found " + std::to_string(ratio));
    result.unshuffleFactor = static_cast<int64_t>(std::round(factor));

    if (original) {
        if (top.text("ps_version", "v2") != "v2")
            top.unsupported("ps_version",
                            "is \"" + top.text("ps_version", "") +
                                "\"; only the v2 pixel shuffle (InternVL 1.5 and later) is supported");
        result.vision = parseVisionTower(Section(config, sourceName, "vision_config"), true,
                                         top.integer("select_layer", -1));
        result.projectorActivation = "gelu"; // mlp1 is LayerNorm, Linear, nn.GELU(), Linear
    } else {
        if (top.text("vision_feature_select_strategy", "default") != "default")
            top.unsupported("vision_feature_select_strategy",
                            "is not \"default\"; only features without the class token are supported");
        result.vision = parseVisionTower(Section(config, sourceName, "vision_config"), false,
                                         top.integer("vision_feature_layer", -1));
        result.projectorActivation = checkedActivation(top, "projector_hidden_act");
        result.imageTokenId = top.integer("image_token_id", 151667);
    }
    const char *languageKey = original ? "llm_config" : "text_config";
    const Section llm(config, sourceName, languageKey);
    result.languageFamily = llm.text("model_type", "");
    nlohmann::json language = llm.object();
    if (result.languageFamily == "internlm2")
        language = internLM2AsLlama(llm);
    if (!language.contains("tie_word_embeddings") && config.contains("tie_word_embeddings"))
        language["tie_word_embeddings"] = config["tie_word_embeddings"];
    if (!language.contains("torch_dtype") && !language.contains("dtype")) {
        const std::string dtype = stringMember(config, "torch_dtype");
        language["torch_dtype"] = !dtype.empty() ? dtype : stringMember(config, "dtype");
        if (language["torch_dtype"] == "")
            language.erase("torch_dtype");
    }
    result.language = parseModelConfig(language, sourceName + " (" + languageKey + ")");
    return result;
}

} // namespace emloc::core
