// openModel on Hugging Face folders written by transformers (single file and sharded), on the demo
// GGUF, and on every kind of wrong path, each with an Error that says what is expected.
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/model_files.h"

#include "child_process.h"
#include "unit_test.h"

#include <filesystem>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::contains;
using nlohmann::json;

namespace {
// The fixtures the suite setup writes, shared by the test cases.
struct Fixtures
{
    emloc::test::TempDir dir;
    json expected;
};

Fixtures &fixtures()
{
    static Fixtures state;
    return state;
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

void copyFolder(const std::string &from, const std::string &to)
{
    std::filesystem::create_directories(to);
    // Its plain files, hidden ones left out (as Qt listed them).
    for (const auto &entry : std::filesystem::directory_iterator(from))
        if (entry.is_regular_file() && !emloc::test::startsWith(entry.path().filename().string(), "."))
            std::filesystem::copy_file(entry.path(), std::filesystem::path(to) / entry.path().filename());
}
} // namespace

SUITE_SETUP()
{
    VERIFY(emloc::test::fileExists(fixtures().dir.path()));
    const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"model", fixtures().dir.path()});
    VERIFY2(result.exitCode == 0, result.err);
    fixtures().expected = json::parse(readTextFile(fixtures().dir.filePath("expected.json")));
}

TEST_CASE(opensTransformersFolders)
{
    const json &expectedWeights = fixtures().expected;
    for (const std::string folder : {"single", "sharded"}) {
        emloc::test::Row row(folder);
        const ModelFiles files = openModel(fixtures().dir.filePath(folder));
        COMPARE(files.format, std::string("hf"));
        COMPARE(files.config.modelType, std::string("llama"));
        COMPARE(files.config.hiddenSize, int64_t(32));
        COMPARE(files.config.numLayers, int64_t(2));
        VERIFY(!files.config.tieWordEmbeddings);
        VERIFY(files.generationConfig.is_object() && files.generationConfig.value("eos_token_id", -1) == 2);
        VERIFY(files.tokenizerJson.is_object() && files.tokenizerJson.empty());
        VERIFY(files.tokenizerConfig.is_object() && files.tokenizerConfig.empty());

        const std::vector<std::string> names = files.weights->names();
        COMPARE(names.size(), expectedWeights.size());
        double maxError = 0.0;
        for (const auto &[name, want] : expectedWeights.items()) {
            VERIFY2(files.weights->contains(name), name.c_str());
            VERIFY(files.weights->shape(name) == want["shape"].get<std::vector<int64_t>>());
            const torch::Tensor got = files.weights->tensor(name).to(torch::kFloat64).flatten();
            const torch::Tensor expected =
                torch::tensor(want["values"].get<std::vector<double>>(), torch::kFloat64);
            maxError = std::max(maxError, (got - expected).abs().max().item<double>());
        }
        VERIFY2(maxError == 0.0, emloc::test::str("max |error| ", maxError));
        const std::string message =
            errorOf([&] { files.weights->tensor("model.layers.9.mlp.up_proj.weight"); });
        VERIFY2(contains(message, "model.layers.9.mlp.up_proj.weight"), message);
    }
}

TEST_CASE(readsTokenizerFilesAndRejectsMalformedOnes)
{
    emloc::test::TempDir dir;
    const std::string folder = dir.filePath("model");
    copyFolder(fixtures().dir.filePath("single"), folder);
    writeFileAtomically(folder + "/tokenizer.json", R"({"version":"1.0","model":{"type":"BPE"}})");
    writeFileAtomically(folder + "/tokenizer_config.json", R"({"chat_template":"{{ x }}"})");
    ModelFiles files = openModel(folder);
    COMPARE(files.tokenizerJson["model"]["type"].get<std::string>(), std::string("BPE"));
    COMPARE(files.tokenizerConfig["chat_template"].get<std::string>(), std::string("{{ x }}"));

    writeFileAtomically(folder + "/tokenizer_config.json", R"({"chat_template": )");
    const std::string message = errorOf([&] { openModel(folder); });
    VERIFY2(contains(message, folder + "/tokenizer_config.json"), message);
}

TEST_CASE(wrongPathsSayWhatIsExpected)
{
    emloc::test::TempDir dir;
    std::string message = errorOf([&] { openModel(dir.filePath("nowhere")); });
    VERIFY2(contains(message, "nowhere") && contains(message, "does not exist") && contains(message, ".gguf"),
            message);

    const std::string text = dir.filePath("notes.txt");
    writeFileAtomically(text, "hello");
    message = errorOf([&] { openModel(text); });
    VERIFY2(contains(message, "notes.txt") && contains(message, "neither"), message);

    const std::string empty = dir.filePath("empty");
    std::filesystem::create_directory(empty);
    message = errorOf([&] { openModel(empty); });
    VERIFY2(contains(message, empty) && contains(message, "config.json"), message);

    const std::string withGguf = dir.filePath("with-gguf");
    std::filesystem::create_directory(withGguf);
    writeFileAtomically(withGguf + "/model.Q4_0.gguf", "GGUF");
    message = errorOf([&] { openModel(withGguf); });
    VERIFY2(contains(message, "model.Q4_0.gguf"), message);

    const std::string noWeights = dir.filePath("no-weights");
    std::filesystem::create_directory(noWeights);
    std::filesystem::copy_file(fixtures().dir.filePath("single/config.json"), noWeights + "/config.json");
    message = errorOf([&] { openModel(noWeights); });
    VERIFY2(contains(message, noWeights) && contains(message, "model.safetensors"), message);
}

TEST_CASE(weightsThatDoNotMatchTheConfig)
{
    emloc::test::TempDir dir;
    const std::string folder = dir.filePath("model");
    copyFolder(fixtures().dir.filePath("single"), folder);
    const std::string configPath = folder + "/config.json";
    json config = json::parse(readTextFile(configPath));

    config["vocab_size"] = 128;
    writeFileAtomically(configPath, config.dump());
    std::string message = errorOf([&] { openModel(folder); });
    VERIFY2(contains(message, "model.embed_tokens.weight") && contains(message, "128"), message);

    config["vocab_size"] = 64;
    config["num_hidden_layers"] = 3;
    writeFileAtomically(configPath, config.dump());
    message = errorOf([&] { openModel(folder); });
    VERIFY2(contains(message, "model.layers.2.") && contains(message, "3 layers"), message);
}

TEST_CASE(missingShardIsNamed)
{
    emloc::test::TempDir dir;
    const std::string folder = dir.filePath("model");
    copyFolder(fixtures().dir.filePath("sharded"), folder);
    VERIFY(std::filesystem::remove(folder + "/model-00002-of-00005.safetensors"));
    const std::string message = errorOf([&] { openModel(folder); });
    VERIFY2(contains(message, "model.safetensors.index.json") &&
                contains(message, "model-00002-of-00005.safetensors"),
            message);
}

TEST_CASE(opensTheDemoGguf)
{
    const std::string path = emloc::test::demoGgufPath();
    if (!emloc::test::fileExists(path))
        FAIL("the demo model is missing: " + path + " (run scripts/setup.sh)");
    const ModelFiles files = openModel(path);
    COMPARE(files.format, std::string("gguf"));
    COMPARE(files.path, path);
    COMPARE(files.config.modelType, std::string("llama"));
    COMPARE(files.config.hiddenSize, int64_t(576));
    COMPARE(files.config.numLayers, int64_t(30));
    VERIFY(files.weights->contains("model.embed_tokens.weight"));
}
