// InternVL's config.json in both layouts, read without weights: the fields that matter, and every
// config the engine cannot run refused with a message naming the file, the field and what is supported.
// Text commands given a vision-language folder say so instead of running half the model.
#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/vision/internvl_config.h"

#include "unit_test.h"

#include <nlohmann/json.hpp>

using namespace emloc::core;
using namespace emloc::test;

namespace {

nlohmann::json qwen2()
{
    return {{"model_type", "qwen2"},      {"architectures", {"Qwen2ForCausalLM"}},
            {"vocab_size", 1000},         {"hidden_size", 64},
            {"intermediate_size", 128},   {"num_hidden_layers", 2},
            {"num_attention_heads", 4},   {"num_key_value_heads", 2},
            {"tie_word_embeddings", true}};
}

nlohmann::json original()
{
    return {{"architectures", {"InternVLChatModel"}},
            {"model_type", "internvl_chat"},
            {"downsample_ratio", 0.5},
            {"force_image_size", 448},
            {"ps_version", "v2"},
            {"select_layer", -1},
            {"vision_config",
             {{"model_type", "intern_vit_6b"},
              {"hidden_size", 1024},
              {"num_attention_heads", 16},
              {"intermediate_size", 4096},
              {"num_hidden_layers", 24},
              {"image_size", 448},
              {"patch_size", 14},
              {"qkv_bias", true},
              {"qk_normalization", false},
              {"norm_type", "layer_norm"}}},
            {"llm_config", qwen2()}};
}

nlohmann::json hf()
{
    return {{"architectures", {"InternVLForConditionalGeneration"}},
            {"model_type", "internvl"},
            {"image_token_id", 151667},
            {"vision_config",
             {{"model_type", "internvl_vision"},
              {"hidden_size", 1024},
              {"num_attention_heads", 16},
              {"intermediate_size", 4096},
              {"num_hidden_layers", 24},
              {"image_size", {448, 448}},
              {"patch_size", {14, 14}},
              {"attention_bias", true}}},
            {"text_config", qwen2()}};
}

std::string refusal(const nlohmann::json &config)
{
    try {
        parseInternVLConfig(config, "cfg.json");
    } catch (const Error &error) {
        return error.what();
    }
    return "(accepted)";
}

} // namespace

TEST_CASE(readsBothLayouts)
{
    const InternVLConfig a = parseInternVLConfig(original(), "cfg.json");
    const InternVLConfig b = parseInternVLConfig(hf(), "cfg.json");
    COMPARE(a.layout, std::string("original"));
    COMPARE(b.layout, std::string("hf"));
    for (const InternVLConfig *config : {&a, &b}) {
        COMPARE(config->vision.hiddenSize, int64_t(1024));
        COMPARE(config->vision.usedLayers, int64_t(24));
        COMPARE(config->vision.positionGrid, int64_t(32));
        VERIFY(config->vision.qkvBias);
        VERIFY(!config->vision.qkNorm);
        COMPARE(config->vision.normType, std::string("layer_norm"));
        COMPARE(config->unshuffleFactor, int64_t(2));
        COMPARE(config->tokensPerTile(448), int64_t(256)); // InternVL's 256 tokens per 448-pixel tile
        COMPARE(config->language.modelType, std::string("qwen2"));
        COMPARE(config->languageFamily, std::string("qwen2"));
    }
    COMPARE(a.imageTokenId, int64_t(-1)); // the original layout's id lives in its tokenizer
    COMPARE(b.imageTokenId, int64_t(151667));
}

TEST_CASE(selectLayerCountsFromTheEnd)
{
    nlohmann::json config = original();
    config["select_layer"] = -4;
    COMPARE(parseInternVLConfig(config, "cfg.json").vision.usedLayers, int64_t(21));
    config["select_layer"] = -30;
    VERIFY2(contains(refusal(config), "feature layer -30 does not exist"), refusal(config));
    nlohmann::json list = hf();
    list["vision_feature_layer"] = {-1, -2};
    VERIFY2(contains(refusal(list), "'vision_feature_layer' must be a whole number"), refusal(list));
}

TEST_CASE(internLM2RunsAsLlama)
{
    nlohmann::json config = original();
    config["llm_config"] = {{"architectures", {"InternLM2ForCausalLM"}},
                            {"model_type", "internlm2"},
                            {"vocab_size", 92553},
                            {"hidden_size", 4096},
                            {"intermediate_size", 14336},
                            {"num_hidden_layers", 32},
                            {"num_attention_heads", 32},
                            {"num_key_value_heads", 8},
                            {"rope_theta", 1000000},
                            {"rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}},
                            {"max_position_embeddings", 32768},
                            {"bias", false}};
    const InternVLConfig parsed = parseInternVLConfig(config, "cfg.json");
    COMPARE(parsed.languageFamily, std::string("internlm2"));
    COMPARE(parsed.language.modelType, std::string("llama"));
    COMPARE(parsed.language.numKeyValueHeads, int64_t(8));
    VERIFY(parsed.language.ropeScaling.type.empty()); // dynamic NTK: no change within the context length
    config["llm_config"]["bias"] = true;
    VERIFY2(contains(refusal(config), "'llm_config.bias' is true"), refusal(config));
}

TEST_CASE(unsupportedConfigsAreRefusedByName)
{
    const nlohmann::json qwenVL = {{"architectures", {"Qwen2VLForConditionalGeneration"}},
                                   {"model_type", "qwen2_vl"},
                                   {"vision_config", nlohmann::json::object()}};
    VERIFY(isVisionLanguageConfig(qwenVL));
    VERIFY(!isInternVLConfig(qwenVL));
    const std::string message = refusal(qwenVL);
    VERIFY2(contains(message, "'Qwen2VLForConditionalGeneration' is a vision-language model") &&
                contains(message, "InternVL 2.5, 3 and 3.5"),
            message);
    VERIFY(!isVisionLanguageConfig(qwen2()));

    nlohmann::json v1 = original();
    v1["ps_version"] = "v1";
    VERIFY2(contains(refusal(v1), "'ps_version' is \"v1\""), refusal(v1));
    nlohmann::json noLanguage = original();
    noLanguage.erase("llm_config");
    noLanguage["llm"] = qwen2();
    VERIFY2(contains(refusal(noLanguage), "cfg.json: the vision-language config has no \"text_config\""),
            refusal(noLanguage));
    nlohmann::json badNorm = hf();
    badNorm["vision_config"]["norm_type"] = "batch_norm";
    VERIFY2(contains(refusal(badNorm), "'vision_config.norm_type' is \"batch_norm\""), refusal(badNorm));
    nlohmann::json ratio = hf();
    ratio["downsample_ratio"] = 0.3;
    VERIFY2(contains(refusal(ratio), "'downsample_ratio' must be 1 / a whole number"), refusal(ratio));
    nlohmann::json rectangle = hf();
    rectangle["vision_config"]["image_size"] = {448, 224};
    VERIFY2(contains(refusal(rectangle), "only square tiles"), refusal(rectangle));
    nlohmann::json language = hf();
    language["text_config"]["model_type"] = "gemma";
    VERIFY2(contains(refusal(language), "cfg.json (text_config): model_type 'gemma' is not supported"),
            refusal(language));
}

// Mistyped fields are refused by name, never with a JSON library exception (fuzz_model_config
// reads these configs too).
TEST_CASE(mistypedFieldsAreRefusedByName)
{
    nlohmann::json unknown = {{"model_type", 7}, {"vision_config", nlohmann::json::object()}};
    VERIFY2(contains(refusal(unknown), "a vision-language model of unknown kind"), refusal(unknown));
    nlohmann::json pooling = hf();
    pooling["vision_config"]["use_mean_pooling"] = "yes";
    VERIFY2(contains(refusal(pooling), "'vision_config.use_mean_pooling' must be true or false"),
            refusal(pooling));
    nlohmann::json scaling = original();
    scaling["llm_config"] = {{"model_type", "internlm2"},
                             {"vocab_size", 100},
                             {"hidden_size", 64},
                             {"intermediate_size", 128},
                             {"num_hidden_layers", 2},
                             {"num_attention_heads", 4},
                             {"rope_scaling", {{"type", 3}, {"factor", 2.0}}}};
    VERIFY2(!contains(refusal(scaling), "type_error"), refusal(scaling));
    nlohmann::json dtype = hf();
    dtype["torch_dtype"] = 16;
    dtype["text_config"].erase("torch_dtype");
    COMPARE(parseInternVLConfig(dtype, "cfg.json").language.torchDtype, std::string("float32"));
    nlohmann::json layer = original();
    layer["select_layer"] = "last";
    VERIFY2(contains(refusal(layer), "'select_layer' must be a whole number"), refusal(layer));
}

TEST_CASE(textCommandsRefuseVisionLanguageFolders)
{
    TempDir dir;
    writeFile(dir.filePath("config.json"), hf().dump());
    try {
        openModel(dir.path());
        FAIL("a vision-language folder opened as a text model");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "holds a vision-language model") &&
                    contains(error.what(), "emloc info"),
                error.what());
    }
}
