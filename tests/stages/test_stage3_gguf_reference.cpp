// The GGUF LoRA adapter loaded by llama.cpp onto our exported base GGUF (F32) gives the next-token logits
// of our merged model (relative tolerance 2e-3 of the logit scale, argmax equal at every position). The
// Ollama folder's Modelfile renders conversations as the model's template does (Go's text/template).
#include "stage3_test_util.h"

#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_lora.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/export.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/model_text.h"

#include "child_process.h"
#include "unit_test.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

using namespace emloc;
using namespace emloc::test;

namespace {
// The demo model's configuration shrunk to two small layers: its vocabulary stays, since llama.cpp and
// Ollama need a real tokenizer.
core::ModelConfig tinyDemoConfig()
{
    core::ModelConfig config = core::openModel(demoGgufPath()).config;
    config.hiddenSize = 64;
    config.intermediateSize = 128;
    config.numLayers = 2;
    config.numHeads = 4;
    config.numKeyValueHeads = 2;
    config.headDim = 16;
    config.maxPositionEmbeddings = 128;
    config.ropeScaling = {};
    config.tieWordEmbeddings = true;
    return config;
}

auto tinyRandomWeights(uint64_t seed)
{
    return randomWeights(tinyDemoConfig(), seed);
}

// The demo model's files (tokenizer, chat template) with `weights` of the tiny configuration.
core::ModelFiles withDemoTokenizer(std::shared_ptr<core::WeightSource> weights)
{
    core::ModelFiles files = core::openModel(demoGgufPath());
    files.config = tinyDemoConfig();
    files.weights = std::move(weights);
    return files;
}
} // namespace

TEST_CASE(llamaCppLoadsTheGgufLora)
{
    const std::string demo = demoGgufPath();
    VERIFY2(fileExists(demo), "the demo GGUF is missing: " + demo);
    TempDir dir;
    const std::string root = dir.path();

    // A tiny random Llama with the demo model's tokenizer (llama.cpp needs a real vocabulary).
    auto weights = tinyRandomWeights(77);
    weights->tensors["model.embed_tokens.weight"] = 0.5 * weights->tensors["model.embed_tokens.weight"];
    const core::ModelFiles base = withDemoTokenizer(weights);
    const core::ModelConfig &config = base.config;
    const std::string baseGguf = root + "/base.gguf";
    core::writeGgufModel(base, baseGguf, "F32");

    // A corrected-style adapter (scale 1) on every projection.
    core::PeftAdapter adapter = randomAdapter(*weights, allModules(config), 4, 4.0, 9, 0.3);
    // Both GGUF exports through the export job, from the GGUF base as the original model.
    core::writePeftAdapter(adapter, root + "/adapter");
    core::ExportOptions options;
    options.modelPath = baseGguf;
    options.adapterPath = root + "/adapter";
    options.format = core::ExportFormat::GgufLora;
    options.outPath = root + "/lora.gguf";
    core::ExportResult exported = core::runExport(options);
    COMPARE(exported.tensorsChecked, int64_t(7 * config.numLayers));
    const std::string loraGguf = options.outPath;
    options.format = core::ExportFormat::GgufMerged;
    options.outPath = root + "/merged.gguf";
    exported = core::runExport(options);
    info(str("merged GGUF: ", static_cast<long long>(exported.tensorsChecked),
             " tensors verified, max error ", exported.maxVerifyError));
    VERIFY(exported.maxVerifyError < 1e-5);
    const std::string mergedGguf = options.outPath;
    core::PeftAdapter back = core::readGgufLora(loraGguf, config);
    double roundTrip = 0;
    for (const auto &entry : adapter.modules)
        roundTrip = std::max(roundTrip,
                             maxAbsDiff(updateOf(back, *back.find(entry.module)), updateOf(adapter, entry)));
    COMPARE(roundTrip, 0.0);

    torch::Tensor ids =
        torch::tensor(std::vector<int64_t>{1, 504, 3102, 28, 1840, 9, 6399, 45, 2, 17, 4501, 260})
            .unsqueeze(0);
    torch::Tensor ours = logitsOf(config, core::mergeAdapterWeights(weights, adapter), ids);
    torch::Tensor baseLogits = logitsOf(config, weights, ids);
    const std::string oursPath = root + "/ours.safetensors";
    core::writeSafetensors(
        oursPath,
        {{"input_ids", ids}, {"logits", ours.contiguous()}, {"base_logits", baseLogits.contiguous()}});
    auto result = runPythonScript("stage3_reference.py",
                                  {"llamacpp_logits", baseGguf, loraGguf, oursPath, mergedGguf}, 600000);
    info("llama.cpp: " + lastLine(result.out));
    if (result.exitCode == 3)
        FAIL("llama-cpp-python is missing from the venv: run scripts/setup.sh (it installs "
             "llama-cpp-python==0.3.36)");
    VERIFY2(result.exitCode == 0, result.out + result.err);
}

// The Ollama export: a folder `ollama create` reads. Its Modelfile parsed as Ollama parses it and its
// TEMPLATE executed with Go's text/template, as Ollama executes it (tests/reference/ollama_template.go),
// render every conversation exactly as the model's own chat template did in training, the default system
// prompt included; FROM and ADAPTER name the files beside it, which read back as the model and the
// adapter; the stop parameter is the template's end of turn. From a GGUF original and from a folder.
TEST_CASE(ollamaFolderRendersTheTrainingTemplate)
{
    const std::string demo = demoGgufPath();
    VERIFY2(fileExists(demo), "the demo GGUF is missing: " + demo);
    TempDir dir;
    const std::string root = dir.path();
    auto weights = tinyRandomWeights(5);
    const core::ModelFiles base = withDemoTokenizer(weights);
    const core::ModelConfig &config = base.config;
    core::writeGgufModel(base, root + "/base.gguf", "F32");
    core::convertToHuggingFace(core::openModel(root + "/base.gguf"), root + "/base-hf", "float32");
    core::writePeftAdapter(randomAdapter(*weights, allModules(config), 4, 4.0, 3, 0.3), root + "/adapter");

    const nlohmann::json conversations = {
        {{{"role", "user"}, {"content", "Table for two at seven, please."}}},
        {{{"role", "system"}, {"content", "You take restaurant bookings."}},
         {{"role", "user"}, {"content", "Table for two at seven, please."}}},
        {{{"role", "user"}, {"content", "Hi."}},
         {{"role", "assistant"}, {"content", "Hello! How can I help?"}},
         {{"role", "user"}, {"content", "Book a table."}}}};
    const std::string conversationsPath = root + "/conversations.json";
    writeFile(conversationsPath, conversations.dump());
    for (const std::string original : {root + "/base.gguf", root + "/base-hf"}) {
        core::ExportOptions options;
        options.modelPath = original;
        options.adapterPath = root + "/adapter";
        options.format = core::ExportFormat::Ollama;
        options.outPath = root + "/ollama-" + std::filesystem::path(original).stem().string();
        core::runExport(options);

        ProcessOptions go;
        go.environment["GOCACHE"] = root + "/gocache";
        const auto parsed = runProcess("go",
                                       {"run", sourceDir() + "/tests/reference/ollama_template.go",
                                        options.outPath + "/Modelfile", conversationsPath},
                                       go);
        VERIFY2(parsed.exitCode == 0, describe(parsed));
        const nlohmann::json result = nlohmann::json::parse(lastLine(parsed.out));
        std::map<std::string, std::vector<std::string>> values;
        for (const nlohmann::json &instruction : result["instructions"])
            values[instruction[0].get<std::string>()].push_back(instruction[1].get<std::string>());
        const std::string from = values["from"].at(0);
        const std::filesystem::path fromPath = from.rfind("./", 0) == 0
                                                   ? std::filesystem::path(options.outPath) / from.substr(2)
                                                   : std::filesystem::path(from);
        COMPARE(core::openModel(fromPath.string()).config.numLayers, config.numLayers);
        COMPARE(values["adapter"].at(0), std::string("./adapter.gguf"));
        COMPARE(int(core::readGgufLora(options.outPath + "/adapter.gguf", config).modules.size()),
                int(7 * config.numLayers));
        VERIFY2(std::find(values["parameter"].begin(), values["parameter"].end(), "stop \"<|im_end|>\"") !=
                    values["parameter"].end(),
                nlohmann::json(values["parameter"]).dump());
        // SmolLM2's template puts in its own system prompt when a conversation has none: SYSTEM says it.
        VERIFY2(values["system"].size() == 1 && contains(values["system"][0], "SmolLM"),
                nlohmann::json(values["system"]).dump());

        const core::ModelText text = core::openModelText(core::openModel(original));
        for (size_t i = 0; i < conversations.size(); ++i) {
            std::vector<core::ChatMessage> messages;
            for (const nlohmann::json &m : conversations[i])
                messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
            COMPARE(result["rendered"][i].get<std::string>(), text.chatTemplate.render(messages, true));
        }
    }
    // A template of no family it writes is refused by name, before anything is written.
    core::ExportOptions plain;
    plain.modelPath = root + "/base.gguf";
    plain.adapterPath = root + "/adapter";
    plain.format = core::ExportFormat::Ollama;
    plain.chatTemplate = "alpaca";
    plain.outPath = root + "/ollama-alpaca";
    try {
        core::runExport(plain);
        FAIL("an Alpaca template was exported for Ollama");
    } catch (const core::Error &error) {
        VERIFY2(contains(error.what(), "ChatML, Llama 3"), error.what());
    }
    VERIFY(!std::filesystem::exists(plain.outPath));
}
