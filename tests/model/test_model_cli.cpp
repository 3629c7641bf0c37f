// `emloc info`, `emloc tokenize` and `emloc generate` end to end, on a tiny folder written here and on
// the demo GGUF.
#include "model_test_util.h"

#include "emloc/io/gguf_file.h"
#include "emloc/io/model_config.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/math/activation_svd.h"
#include "emloc/model/causal_lm.h"
#include "emloc/text/tokenizer.h"

#include "child_process.h"
#include "unit_test.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

using namespace emloc::core;
using emloc::test::contains;
using emloc::test::runCli;

namespace {
nlohmann::json parseOut(const emloc::test::ProcessResult &result)
{
    return nlohmann::json::parse(result.out);
}

// A tiny random model as a Hugging Face folder (config.json + model.safetensors), no tokenizer.
std::shared_ptr<emloc::test::MemoryWeights> writeTinyModel(const std::string &folder,
                                                           const ModelConfig &config)
{
    auto weights = emloc::test::randomWeights(config, 3);
    std::vector<std::pair<std::string, torch::Tensor>> tensors(weights->tensors.begin(),
                                                               weights->tensors.end());
    writeSafetensors(folder + "/model.safetensors", tensors);
    emloc::test::writeFile(folder + "/config.json", modelConfigToJson(config).dump(2));
    return weights;
}

torch::Tensor forwardInProcess(const ModelConfig &config, std::shared_ptr<WeightSource> weights,
                               const std::vector<int64_t> &ids)
{
    CausalLM model(config, std::move(weights));
    torch::NoGradGuard noGrad;
    return model.forward(torch::tensor(ids, torch::kLong).unsqueeze(0));
}
} // namespace

TEST_CASE(infoCountsParametersByKind)
{
    emloc::test::TempDir dir;
    auto config = emloc::test::smallConfig("qwen3");
    auto weights = emloc::test::randomWeights(config, 3);
    std::vector<std::pair<std::string, torch::Tensor>> tensors(weights->tensors.begin(),
                                                               weights->tensors.end());
    writeSafetensors(dir.filePath("model.safetensors"), tensors);
    emloc::test::writeFile(dir.filePath("config.json"), modelConfigToJson(config).dump(2));

    auto result = runCli({"--json", "info", dir.path()});
    VERIFY2(result.exitCode == 0, result.err);
    auto info = parseOut(result);
    COMPARE(info["format"].get<std::string>(), std::string("hf"));
    COMPARE(info["architecture"].get<std::string>(), std::string("qwen3"));
    COMPARE(info["layers"].get<int64_t>(), int64_t(3));
    COMPARE(info["key_value_heads"].get<int64_t>(), int64_t(2));
    const auto &p = info["parameters"];
    // hidden 48, heads 4 x 12, kv 2 x 12, intermediate 112, vocab 96, 3 layers.
    COMPARE(p["embeddings"].get<int64_t>(), int64_t(96 * 48));
    COMPARE(p["lm_head"].get<int64_t>(), int64_t(96 * 48));
    COMPARE(p["attention"].get<int64_t>(), int64_t(3 * (48 * 48 + 2 * 24 * 48 + 48 * 48)));
    COMPARE(p["mlp"].get<int64_t>(), int64_t(3 * 3 * 48 * 112));
    COMPARE(p["norms"].get<int64_t>(), int64_t(3 * (2 * 48 + 2 * 12) + 48));
    const int64_t total = p["total"].get<int64_t>();
    COMPARE(total, p["embeddings"].get<int64_t>() + p["lm_head"].get<int64_t>() +
                       p["attention"].get<int64_t>() + p["mlp"].get<int64_t>() + p["norms"].get<int64_t>());
    COMPARE(info["weight_bytes"]["fp32"].get<int64_t>(), 4 * total);
    COMPARE(info["weight_bytes"]["bf16"].get<int64_t>(), 2 * total);

    auto text = runCli({"info", dir.path()});
    COMPARE(text.exitCode, 0);
    VERIFY(contains(text.out, "qwen3"));
    VERIFY(contains(text.out, "lm_head"));

    // No tokenizer in this folder: every command that reads text says so the same way (one place in
    // core), naming the folder and what to add, with exit code 1 and nothing written.
    const std::string data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
    const std::string out = dir.filePath("never-written");
    for (const std::vector<std::string> &command :
         {std::vector<std::string>{"tokenize", dir.path(), "--text", "hi"},
          std::vector<std::string>{"train", dir.path(), "--data", data, "--out", out, "--steps", "1"},
          std::vector<std::string>{"data", "inspect", data, "--model", dir.path()},
          std::vector<std::string>{"generate", dir.path(), "--prompt", "hi"}}) {
        auto noTokenizer = runCli(command);
        COMPARE(noTokenizer.exitCode, 1);
        VERIFY2(contains(noTokenizer.err, dir.path() + " has no tokenizer") &&
                    contains(noTokenizer.err, "add the model's tokenizer.json to the folder"),
                emloc::test::joined(command, " ") + ": " + noTokenizer.err);
    }
    VERIFY(!emloc::test::fileExists(out));
    auto missing = runCli({"info", dir.filePath("nothing-here")});
    COMPARE(missing.exitCode, 1);
}

// A quantised GGUF is described by the types of its tensors, the dominant one first.
TEST_CASE(infoNamesTheStoredQuantisation)
{
    emloc::test::TempDir dir;
    auto config = emloc::test::smallConfig("llama");
    config.hiddenSize = 64; // Q8_0 rows are whole 32-value blocks
    config.intermediateSize = 128;
    config.headDim = 16;
    writeTinyModel(dir.path(), config);
    const std::string gguf = dir.filePath("model.gguf");
    ModelFiles files = openModel(dir.path());
    nlohmann::json vocab; // a GGUF carries a vocabulary; any will do here
    for (int64_t id = 0; id < config.vocabSize; ++id)
        vocab["t" + std::to_string(id)] = id;
    files.tokenizerJson = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
    writeGgufModel(files, gguf, "Q8_0"); // the norms stay F32

    auto result = runCli({"--json", "info", gguf});
    VERIFY2(result.exitCode == 0, result.err);
    auto info = parseOut(result);
    COMPARE(info["stored_dtype"].get<std::string>(), std::string("Q8_0"));
    const auto &types = info["stored_types"];
    COMPARE(types.size(), size_t(2));
    COMPARE(types[0]["type"].get<std::string>(), std::string("Q8_0"));
    COMPARE(types[1]["type"].get<std::string>(), std::string("F32")); // the norms
    COMPARE(types[1]["tensors"].get<int64_t>(), 2 * config.numLayers + 1);
    COMPARE(types[0]["parameters"].get<int64_t>() + types[1]["parameters"].get<int64_t>(),
            info["parameters"]["total"].get<int64_t>());

    auto text = runCli({"info", gguf});
    VERIFY2(text.exitCode == 0, text.err);
    const std::string expected =
        emloc::test::str("(stored as mixed: Q8_0 (", types[0]["tensors"].get<int64_t>(), " tensors), F32 (",
                         types[1]["tensors"].get<int64_t>(), "))");
    VERIFY2(contains(text.out, expected), text.out);
}

TEST_CASE(demoModelInfoTokenizeGenerate)
{
    const std::string gguf = emloc::test::demoGgufPath();
    auto result = runCli({"--json", "info", gguf});
    VERIFY2(result.exitCode == 0, result.err);
    auto info = parseOut(result);
    COMPARE(info["format"].get<std::string>(), std::string("gguf"));
    COMPARE(info["layers"].get<int64_t>(), int64_t(30));
    COMPARE(info["hidden_size"].get<int64_t>(), int64_t(576));
    COMPARE(info["attention_heads"].get<int64_t>(), int64_t(9));
    COMPARE(info["key_value_heads"].get<int64_t>(), int64_t(3));
    COMPARE(info["vocab_size"].get<int64_t>(), int64_t(49152));
    VERIFY(info["tied_embeddings"].get<bool>());
    // SmolLM2-135M: 134.5 M parameters (tied embeddings counted once).
    COMPARE(info["parameters"]["total"].get<int64_t>(), int64_t(134515008));
    // Its matrices are Q4_1 (embeddings Q8_0, norms F32), whatever general.file_type says.
    COMPARE(info["stored_dtype"].get<std::string>(), std::string("Q4_1"));
    auto infoText = runCli({"info", gguf});
    VERIFY2(contains(infoText.out, "(stored as mixed: Q4_1 ("), infoText.out);

    auto tokens = runCli({"tokenize", gguf, "--text", "The capital of France is"});
    VERIFY2(tokens.exitCode == 0, tokens.err);
    auto files = openModel(gguf);
    auto tokenizer = Tokenizer::fromJson(files.tokenizerJson, "demo");
    COMPARE(parseOut(tokens).get<std::vector<int64_t>>(),
            tokenizer->encode("The capital of France is", false));

    auto generated = runCli(
        {"generate", gguf, "--prompt", "What is the capital of France?", "--chat", "--max-new-tokens", "20"});
    VERIFY2(generated.exitCode == 0, generated.err);
    VERIFY2(contains(generated.out, "Paris"), generated.out);
    VERIFY2(contains(generated.err, "tok/s"), generated.err);

    auto sampled = runCli({"--json", "generate", gguf, "--prompt", "Once upon a time", "--max-new-tokens",
                           "8", "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9",
                           "--repetition-penalty", "1.1", "--seed", "5"});
    VERIFY2(sampled.exitCode == 0, sampled.err);
    auto first = parseOut(sampled);
    COMPARE(int(first["new_tokens"].size()), 8);
    auto again = parseOut(runCli({"--json", "generate", gguf, "--prompt", "Once upon a time",
                                  "--max-new-tokens", "8", "--temperature", "0.8", "--top-k", "40", "--top-p",
                                  "0.9", "--repetition-penalty", "1.1", "--seed", "5"}));
    COMPARE(again["new_tokens"], first["new_tokens"]);

    auto badDtype = runCli({"generate", gguf, "--prompt", "x", "--dtype", "bf16"});
    COMPARE(badDtype.exitCode, 1);
    VERIFY2(contains(badDtype.err, "CUDA"), badDtype.err);
}

// `emloc bench logits` writes what the model computes; with --adapter, the model with W + s B A.
TEST_CASE(benchLogitsAreTheModelsForward)
{
    emloc::test::TempDir dir;
    const auto config = emloc::test::smallConfig("llama");
    auto weights = writeTinyModel(dir.path(), config);
    const std::vector<int64_t> ids{1, 5, 7, 42, 3};
    const std::string out = dir.filePath("logits.safetensors");
    auto result = runCli({"-q", "bench", "logits", dir.path(), "--ids", "1,5,7,42,3", "--out", out});
    VERIFY2(result.exitCode == 0, result.err);
    const auto ours = SafetensorsFile(out).tensor("logits");
    const auto expected = forwardInProcess(config, weights, ids);
    COMPARE(ours.sizes().vec(), expected.sizes().vec());
    VERIFY(emloc::test::maxAbsDiff(ours, expected) < 1e-5); // the same code path, up to thread order

    // A PEFT adapter on layer 1's q_proj and down_proj, merged by hand for the reference.
    PeftAdapter adapter;
    adapter.config.r = 2;
    adapter.config.loraAlpha = 6; // scale 3
    adapter.config.targetModules = {"q_proj", "down_proj"};
    auto merged = std::make_shared<emloc::test::MemoryWeights>(*weights);
    torch::manual_seed(11);
    for (const std::string module : {"model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj"}) {
        const auto shape = weights->shape(module + ".weight");
        const auto a = torch::randn({2, shape[1]}) * 0.3;
        const auto b = torch::randn({shape[0], 2}) * 0.3;
        adapter.modules.push_back({module, a, b});
        merged->tensors[module + ".weight"] = weights->tensor(module + ".weight") + 3.0 * b.matmul(a);
    }
    writePeftAdapter(adapter, dir.filePath("adapter"));
    result = runCli({"-q", "bench", "logits", dir.path(), "--ids", "1,5,7,42,3", "--adapter",
                     dir.filePath("adapter"), "--out", out});
    VERIFY2(result.exitCode == 0, result.err);
    const auto adapted = SafetensorsFile(out).tensor("logits");
    VERIFY(emloc::test::maxAbsDiff(adapted, forwardInProcess(config, merged, ids)) < 1e-4);
    VERIFY(emloc::test::maxAbsDiff(adapted, expected) > 1e-2); // the adapter changed something
}

// bench matmul / forward / svd report their measurements with the numbers they are made of.
TEST_CASE(benchRatesAreConsistent)
{
    emloc::test::TempDir dir;
    const auto config = emloc::test::smallConfig("llama");
    writeTinyModel(dir.path(), config);
    auto result = runCli({"--json", "bench", "matmul", "--size", "64", "--seconds", "0.05"});
    VERIFY2(result.exitCode == 0, result.err);
    auto matmul = parseOut(result);
    VERIFY(matmul["repeats"].get<int64_t>() >= 1);
    VERIFY(matmul["flops_per_second"].get<double>() > 0);
    COMPARE(matmul["flops_per_second"].get<double>(),
            2.0 * 64 * 64 * 64 * matmul["repeats"].get<double>() / matmul["seconds"].get<double>());

    result = runCli({"--json", "bench", "forward", dir.path(), "--seq-len", "16", "--repeat", "2"});
    VERIFY2(result.exitCode == 0, result.err);
    auto forward = parseOut(result);
    const double headDim = config.headDim > 0 ? config.headDim : config.hiddenSize / config.numHeads;
    const double expectedFlops = 2.0 * forward["linear_parameters"].get<double>() * 16 +
                                 4.0 * 16 * 16 * config.numHeads * headDim * config.numLayers +
                                 2.0 * 16 * config.vocabSize * config.hiddenSize;
    COMPARE(forward["flops_per_forward"].get<double>(), expectedFlops);
    COMPARE(forward["tokens_per_second"].get<double>(), 16 / forward["seconds_per_forward"].get<double>());
    VERIFY(forward["fraction_of_matmul"].get<double>() > 0);
    VERIFY(forward["peak_memory_bytes"].get<int64_t>() > 0);

    result =
        runCli({"--json", "bench", "svd", dir.path(), "--layer", "1", "--ratio", "0.5", "--samples", "64"});
    VERIFY2(result.exitCode == 0, result.err);
    auto svd = parseOut(result);
    COMPARE(svd["backends"].size(), size_t(1)); // LibTorch only on the CPU
    const auto &libtorch = svd["backends"][0];
    COMPARE(libtorch["backend"].get<std::string>(), std::string("libtorch"));
    COMPARE(libtorch["projections"].size(), size_t(7));
    for (const auto &[name, projection] : libtorch["projections"].items()) {
        const int64_t out = projection["shape"][0], in = projection["shape"][1];
        COMPARE(projection["rank"].get<int64_t>(), rankForRatio(0.5, out, in));
    }
}
