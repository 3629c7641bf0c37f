// The demo SmolLM2 GGUF through the command line: converted to a Hugging Face folder that transformers
// runs like the GGUF itself, exported back to GGUF (from the folder) that llama.cpp runs like
// transformers, and failures that leave nothing behind.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/gguf_file.h"
#include "gguf_model.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::runCli;
using emloc::test::runPythonScript;

namespace {

// The suite's folder: the converted model and the exports, shared by the test cases in order.
emloc::test::TempDir &suiteDir()
{
    static emloc::test::TempDir dir;
    return dir;
}

std::string hfFolder()
{
    return suiteDir().filePath("smollm2-hf");
}

// The names in `folder` that start with `prefix`, sorted, hidden ones left out (as Qt listed them):
// its folders only, or its folders and plain files.
std::vector<std::string> entryNames(const std::string &folder, bool foldersOnly,
                                    const std::string &prefix = {})
{
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (emloc::test::startsWith(name, ".") || !emloc::test::startsWith(name, prefix))
            continue;
        if (entry.is_directory() || (!foldersOnly && entry.is_regular_file()))
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE(convertWithCli)
{
    const auto started = std::chrono::steady_clock::now();
    auto result = runCli({"--json", "convert", emloc::test::demoGgufPath(), hfFolder()}, 600000);
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char line[64];
    std::snprintf(line, sizeof line, "emloc convert: %.1f s", seconds);
    emloc::test::info(line);
    const nlohmann::json summary = nlohmann::json::parse(result.out);
    COMPARE(summary["dtype"].get<std::string>(), std::string("float32"));
    for (const char *file : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                             "generation_config.json"})
        VERIFY2(emloc::test::fileExists(hfFolder() + "/" + file), file);
    const nlohmann::json config = emloc::test::readJsonFile(hfFolder() + "/config.json");
    COMPARE(config["model_type"].get<std::string>(), std::string("llama"));
    COMPARE(config["num_key_value_heads"].get<int>(), 3);
    COMPARE(config["tie_word_embeddings"].get<bool>(), true);
    // No temporary folder left beside the result.
    COMPARE(entryNames(suiteDir().path(), /*foldersOnly=*/true), std::vector<std::string>{"smollm2-hf"});
}

TEST_CASE(convertedFolderMatchesTransformersGguf)
{
    auto result =
        runPythonScript("gguf_check.py", {"convert_logits", hfFolder(), emloc::test::demoGgufPath()}, 600000);
    emloc::test::info(emloc::test::trimmed(result.out));
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err));
}

TEST_CASE(refusesToOverwrite)
{
    auto result = runCli({"convert", emloc::test::demoGgufPath(), hfFolder()});
    COMPARE(result.exitCode, 1);
    VERIFY2(emloc::test::contains(result.err, "not empty"), result.err);
    result = runCli({"convert", emloc::test::demoGgufPath(), suiteDir().filePath("x"), "--dtype", "float8"});
    COMPARE(result.exitCode, 2);
    result = runCli({"convert", suiteDir().filePath("missing.gguf"), suiteDir().filePath("y")});
    COMPARE(result.exitCode, 1);
    VERIFY(!emloc::test::fileExists(suiteDir().filePath("y")));
}

TEST_CASE(cancelledConversionLeavesNothing)
{
    class CancelAfter : public Feedback
    {
    public:
        void progress(const std::string &, int64_t done, int64_t) override
        {
            if (done == 20)
                cancel();
        }
    } feedback;
    ModelFiles model = openGgufModel(emloc::test::demoGgufPath());
    const std::string out = suiteDir().filePath("cancelled");
    VERIFY_THROWS(CancelledError, convertToHuggingFace(model, out, "float16", &feedback));
    VERIFY(!emloc::test::fileExists(out));
    const std::vector<std::string> left = entryNames(suiteDir().path(), /*foldersOnly=*/false, "cancelled");
    VERIFY2(left.empty(), emloc::test::joined(left, ", "));
}

TEST_CASE(exportFromHuggingFaceFolder)
{
    // The folder path exercises the tokenizer.json -> tokenizer.ggml.* direction.
    const std::string out = suiteDir().filePath("from-hf-f32.gguf");
    auto result = runCli({"export-gguf", hfFolder(), out, "--dtype", "F32"}, 600000);
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err));

    GgufFile ours(out);
    GgufFile original(emloc::test::demoGgufPath());
    for (const char *key :
         {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
          "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template",
          "tokenizer.ggml.model", "llama.block_count", "llama.context_length", "llama.embedding_length",
          "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
          "llama.rope.dimension_count"})
        VERIFY2(ours.value(key).value == original.value(key).value, key);
    // transformers' tokenizer.json of a "smollm" file is GPT-2's ByteLevel, llama.cpp's "gpt-2".
    COMPARE(ours.string("tokenizer.ggml.pre"), std::string("gpt-2"));
    COMPARE(ours.number("llama.rope.freq_base"), original.number("llama.rope.freq_base"));
    COMPARE(ours.tensors().size(), original.tensors().size());
    for (const char *name : {"blk.4.attn_q.weight", "blk.4.attn_k.weight", "token_embd.weight"})
        VERIFY2(torch::equal(ours.tensor(name), original.tensor(name)), name);

    result = runCli({"export-gguf", hfFolder(), suiteDir().filePath("f16.gguf")}, 600000);
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err));
    COMPARE(GgufFile(suiteDir().filePath("f16.gguf")).tensorInfo("blk.0.ffn_up.weight").type, GgmlType::F16);
}

TEST_CASE(llamaCppRunsOurGguf)
{
    const std::string out = suiteDir().filePath("from-hf-f32.gguf");
    VERIFY(emloc::test::fileExists(out));
    auto result = runPythonScript("gguf_check.py", {"llamacpp_logits", out, hfFolder()}, 600000);
    emloc::test::info(emloc::test::trimmed(result.out));
    if (result.exitCode == 3)
        FAIL("llama-cpp-python is missing from the venv: run scripts/setup.sh (it installs "
             "llama-cpp-python==0.3.36)");
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err));
}
