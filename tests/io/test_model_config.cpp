// config.json parsing against transformers: the configs its save_pretrained writes (both the
// transformers 5 `rope_parameters` spelling and the older `rope_theta`/`rope_scaling` one) give the
// values transformers itself reads, parameter counts match the instantiated model, and the configs
// we write are read back by transformers unchanged. Malformed configs name the file and the field.
#include "emloc/api/dtype_names.h"
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/dtype.h"
#include "emloc/io/model_config.h"

#include "child_process.h"
#include "unit_test.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::contains;
using emloc::test::str;
using nlohmann::json;

namespace {
const std::vector<std::string> kConfigNames = {"llama3", "llama_legacy",  "mistral", "mistral_nowindow",
                                               "qwen2",  "qwen2_sliding", "qwen3"};

// The fixtures the suite setup writes (one folder per config), shared by the test cases.
emloc::test::TempDir &fixtureDir()
{
    static emloc::test::TempDir dir;
    return dir;
}

template <typename Body> std::string errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return e.what();
    }
    return std::string();
}

// The config as the fixture script describes it (see expected_of in io_make_fixtures.py).
json describe(const ModelConfig &config)
{
    return {{"model_type", config.modelType},
            {"vocab_size", config.vocabSize},
            {"hidden_size", config.hiddenSize},
            {"intermediate_size", config.intermediateSize},
            {"num_layers", config.numLayers},
            {"num_heads", config.numHeads},
            {"num_kv_heads", config.numKeyValueHeads},
            {"head_dim", config.headDim},
            {"max_position_embeddings", config.maxPositionEmbeddings},
            {"rms_norm_eps", config.rmsNormEps},
            {"rope_theta", config.ropeTheta},
            {"rope_type", config.ropeScaling.type},
            {"rope_factor", config.ropeScaling.factor},
            {"low_freq_factor", config.ropeScaling.lowFreqFactor},
            {"high_freq_factor", config.ropeScaling.highFreqFactor},
            {"original_max_position_embeddings", config.ropeScaling.originalMaxPositionEmbeddings},
            {"tie_word_embeddings", config.tieWordEmbeddings},
            {"sliding_window", config.slidingWindow},
            {"bos_token_id", config.bosTokenId},
            {"eos_token_ids", config.eosTokenIds},
            {"dtype", config.torchDtype},
            {"parameters", config.totalParameters()}};
}

// Field-by-field so a failure names the field; numbers compare as doubles (exact for these values).
void compareDescriptions(const json &got, const json &expected, const std::string &what)
{
    for (const auto &[key, want] : expected.items()) {
        VERIFY2(got.contains(key), what + ": missing " + key);
        const json &value = got[key];
        const bool same =
            want.is_number() && value.is_number() ? want.get<double>() == value.get<double>() : want == value;
        VERIFY2(same, str(what, ": ", key, " is ", value.dump(), ", transformers says ", want.dump()));
    }
}

json validConfig()
{
    return {{"model_type", "llama"},    {"vocab_size", 100},      {"hidden_size", 64},
            {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
            {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-5},   {"eos_token_id", 2}};
}
} // namespace

SUITE_SETUP()
{
    VERIFY(emloc::test::fileExists(fixtureDir().path()));
    const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"configs", fixtureDir().path()});
    VERIFY2(result.exitCode == 0, result.err);
}

TEST_CASE(parsesTransformersConfigs)
{
    for (const std::string &name : kConfigNames) {
        emloc::test::Row row(name);
        const std::string folder = fixtureDir().filePath(name);
        const ModelConfig config = loadModelConfig(folder + "/config.json");
        const json expected = json::parse(readTextFile(folder + "/expected.json"));
        compareDescriptions(describe(config), expected, name);
        COMPARE(config.attentionBias, emloc::test::startsWith(name, "qwen2"));
        COMPARE(config.qkNorm, name == "qwen3");
        VERIFY(config.raw.is_object() && config.raw.contains("model_type"));
    }
}

TEST_CASE(specificValues)
{
    // Spot checks independent of the fixture's own description.
    const ModelConfig llama = loadModelConfig(fixtureDir().filePath("llama3/config.json"));
    COMPARE(llama.ropeScaling.type, std::string("llama3"));
    COMPARE(llama.ropeScaling.factor, 32.0);
    COMPARE(llama.ropeTheta, 500000.0);
    COMPARE(llama.eosTokenIds, (std::vector<int64_t>{6, 7}));
    COMPARE(llama.torchDtype, std::string("bfloat16"));
    VERIFY(llama.tieWordEmbeddings);
    const ModelConfig qwen3 = loadModelConfig(fixtureDir().filePath("qwen3/config.json"));
    COMPARE(qwen3.headDim, int64_t(24)); // not hidden / heads = 16
    COMPARE(qwen3.bosTokenId, int64_t(-1));
    const ModelConfig mistral = loadModelConfig(fixtureDir().filePath("mistral/config.json"));
    COMPARE(mistral.slidingWindow, int64_t(4096));
    COMPARE(mistral.ropeTheta, 1e6);
}

TEST_CASE(transformersReadsWhatWeWrite)
{
    // Fresh JSON (no raw, as for a GGUF model) and JSON merged into the original must both be read by
    // transformers as the same model.
    emloc::test::TempDir out;
    std::vector<std::string> folders;
    std::map<std::string, json> ours;
    for (const std::string &name : kConfigNames) {
        ModelConfig config = loadModelConfig(fixtureDir().filePath(name + "/config.json"));
        for (const bool fresh : {false, true}) {
            if (fresh)
                config.raw = json();
            const std::string folder = out.filePath(name + (fresh ? "_fresh" : "_merged"));
            std::filesystem::create_directories(folder);
            writeFileAtomically(folder + "/config.json", modelConfigToJson(config).dump(2));
            folders.push_back(folder);
            ours[folder] = describe(config);
            // Our own parser must read our output the same way.
            compareDescriptions(describe(parseModelConfig(modelConfigToJson(config), "ours")),
                                describe(config), name + " re-parsed");
        }
    }
    std::vector<std::string> args = {"describe"};
    args.insert(args.end(), folders.begin(), folders.end());
    const auto result = emloc::test::runPythonScript("io_make_fixtures.py", args);
    VERIFY2(result.exitCode == 0, result.err);
    const json theirs = json::parse(result.out);
    for (const auto &[folder, description] : ours)
        compareDescriptions(description, theirs.at(folder), folder);
}

TEST_CASE(malformedConfigs)
{
    struct Case
    {
        const char *name;
        const char *patch; // merged into a valid config (JSON merge patch)
        std::vector<std::string> phrases;
    };
    const std::vector<Case> cases = {
        {"missing hidden_size", R"({"hidden_size": null})", {"'hidden_size'", "missing"}},
        {"wrong type", R"({"hidden_size": "64"})", {"'hidden_size'", "integer"}},
        {"gpt2", R"({"model_type": "gpt2"})", {"gpt2", "llama, mistral, qwen2, qwen3"}},
        {"no model_type", R"({"model_type": null})", {"model_type", "llama"}},
        {"kv heads", R"({"num_key_value_heads": 3})", {"num_key_value_heads"}},
        {"negative layers", R"({"num_hidden_layers": -2})", {"num_hidden_layers"}},
        {"yarn", R"({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}})", {"yarn", "llama3, linear"}},
        {"rope factor type",
         R"({"rope_scaling": {"type": "linear", "factor": "x"}})",
         {"rope_scaling.factor"}},
        {"eos", R"({"eos_token_id": "</s>"})", {"eos_token_id"}},
        {"activation", R"({"hidden_act": "gelu"})", {"hidden_act", "gelu"}},
        {"o_proj bias", R"({"attention_bias": true})", {"attention_bias"}},
        {"head_dim", R"({"hidden_size": 66})", {"hidden_size", "head_dim"}},
        // Beyond 64 bits (found by fuzz_model_config: casting it was undefined behaviour).
        {"huge size",
         R"({"intermediate_size": 1222222222222222222222222222222222222222})",
         {"'intermediate_size'", "below 2^63"}},
        {"above int64", R"({"vocab_size": 18446744073709551615})", {"'vocab_size'", "below 2^63"}},
    };
    for (const Case &c : cases) {
        emloc::test::Row row(c.name);
        json config = validConfig();
        config.merge_patch(json::parse(c.patch));
        const std::string message = errorOf([&] { parseModelConfig(config, "/models/x/config.json"); });
        VERIFY2(contains(message, "/models/x/config.json"), message);
        for (const std::string &phrase : c.phrases)
            VERIFY2(contains(message, phrase), message);
    }
}

TEST_CASE(acceptsNullsAndDefaults)
{
    json config = validConfig();
    config["sliding_window"] = nullptr;
    config["bos_token_id"] = nullptr;
    config["rope_scaling"] = nullptr;
    config["model_type"] = "mistral";
    const ModelConfig parsed = parseModelConfig(config, "config.json");
    COMPARE(parsed.slidingWindow, int64_t(0));
    COMPARE(parsed.bosTokenId, int64_t(-1));
    COMPARE(parsed.headDim, int64_t(16));
    COMPARE(parsed.ropeTheta, 10000.0);
    VERIFY(parsed.ropeScaling.type.empty());
    COMPARE(parsed.eosTokenIds, (std::vector<int64_t>{2}));
    COMPARE(supportedModelTypes(), std::string("llama, mistral, qwen2, qwen3"));
}

// Every reader of a float type (flags, run configurations, config.json, conversions, exports) goes
// through one table of names, so each spelling means the same everywhere.
TEST_CASE(floatTypeNamesAreOneTable)
{
    const std::vector<std::pair<std::string, FloatType>> spellings = {{"fp32", FloatType::Float32},
                                                                      {"float32", FloatType::Float32},
                                                                      {"torch.float32", FloatType::Float32},
                                                                      {"F32", FloatType::Float32},
                                                                      {"float", FloatType::Float32},
                                                                      {"bf16", FloatType::BFloat16},
                                                                      {"bfloat16", FloatType::BFloat16},
                                                                      {"BF16", FloatType::BFloat16},
                                                                      {"torch.bfloat16", FloatType::BFloat16},
                                                                      {"fp16", FloatType::Float16},
                                                                      {"float16", FloatType::Float16},
                                                                      {"F16", FloatType::Float16},
                                                                      {"half", FloatType::Float16},
                                                                      {"fp64", FloatType::Float64},
                                                                      {"float64", FloatType::Float64},
                                                                      {"F64", FloatType::Float64},
                                                                      {"double", FloatType::Float64}};
    for (const auto &[name, type] : spellings) {
        VERIFY2(floatTypeFromName(name) == type, name.c_str());
        COMPARE(floatTypeFromName(hfTypeName(type)), std::optional<FloatType>(type));
        COMPARE(floatTypeFromName(shortTypeName(type)), std::optional<FloatType>(type));
    }
    for (const std::string name : {"", "int8", "Float32", "q4_0", "bfloat", "torch."})
        VERIFY2(!floatTypeFromName(name), name.c_str());
    COMPARE(typeBytes(FloatType::Float32), 4);
    COMPARE(typeBytes(FloatType::BFloat16), 2);
    COMPARE(typeBytes(FloatType::Float64), 8);

    COMPARE(floatDtypeFromName("half"), std::optional<torch::ScalarType>(torch::kFloat16));
    COMPARE(hfDtypeName(torch::kFloat64), std::string("float64"));
    COMPARE(shortDtypeName(torch::kBFloat16), std::string("bf16"));

    // config.json's torch_dtype, as transformers writes it in its several eras.
    for (const auto &[stored, expected] :
         std::vector<std::pair<std::string, std::string>>{{"torch.float16", "float16"},
                                                          {"half", "float16"},
                                                          {"bf16", "bfloat16"},
                                                          {"float", "float32"},
                                                          {"int8", "int8"}}) {
        json config = validConfig();
        config.erase("dtype");
        config["torch_dtype"] = stored;
        COMPARE(parseModelConfig(config, "config.json").torchDtype, expected);
    }
}

TEST_CASE(fileErrorsNameTheFile)
{
    emloc::test::TempDir dir;
    const std::string bad = dir.filePath("config.json");
    writeFileAtomically(bad, "{\"model_type\": \"llama\",");
    std::string message = errorOf([&] { loadModelConfig(bad); });
    VERIFY2(contains(message, bad) && contains(message, "JSON"), message);
    const std::string missing = dir.filePath("none/config.json");
    message = errorOf([&] { loadModelConfig(missing); });
    VERIFY2(contains(message, missing), message);
}
