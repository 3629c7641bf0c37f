// The GGUF LoRA adapter loaded by llama.cpp onto our exported base GGUF (F32) gives the next-token logits
// of our merged model (relative tolerance 2e-3 of the logit scale, argmax equal at every position).
#include "stage3_test_util.h"

#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_lora.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/export.h"

#include "child_process.h"
#include "unit_test.h"

#include <algorithm>
#include <filesystem>
#include <string>

using namespace emloc;
using namespace emloc::test;

TEST_CASE(llamaCppLoadsTheGgufLora)
{
    const std::string demo = demoGgufPath();
    VERIFY2(fileExists(demo), "the demo GGUF is missing: " + demo);
    TempDir dir;
    const std::string root = dir.path();

    // A tiny random Llama with the demo model's tokenizer (llama.cpp needs a real vocabulary).
    core::ModelFiles demoFiles = core::openModel(demo);
    core::ModelConfig config = demoFiles.config;
    config.hiddenSize = 64;
    config.intermediateSize = 128;
    config.numLayers = 2;
    config.numHeads = 4;
    config.numKeyValueHeads = 2;
    config.headDim = 16;
    config.maxPositionEmbeddings = 128;
    config.ropeScaling = {};
    config.tieWordEmbeddings = true;
    auto weights = randomWeights(config, 77);
    weights->tensors["model.embed_tokens.weight"] = 0.5 * weights->tensors["model.embed_tokens.weight"];
    core::ModelFiles base = demoFiles;
    base.config = config;
    base.weights = weights;
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
