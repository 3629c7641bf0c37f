// The corrected PEFT adapter loaded by `peft` onto the transformers model gives the logits of our merged
// model; the merged Hugging Face folder and our own loader agree with it too.
#include "stage3_test_util.h"

#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_lora.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/export.h"

#include "child_process.h"
#include "unit_test.h"

#include <filesystem>
#include <string>

using namespace emloc;
using namespace emloc::test;

TEST_CASE(peftLoadsTheCorrectedAdapter)
{
    TempDir dir;
    const std::string root = dir.path();
    const std::string modelDir = root + "/model";
    auto made = runPythonScript("stage3_reference.py", {"make_model", modelDir});
    VERIFY2(made.exitCode == 0, made.err);

    core::ModelFiles model = core::openModel(modelDir);
    writeEmulatorFolder(root + "/emulator", model.config, *model.weights, 12);
    core::writePeftAdapter(randomAdapter(*model.weights, allModules(model.config), 4, 8.0, 7, 0.3),
                           root + "/adapter");
    core::CorrectionOptions correction;
    correction.modelPath = modelDir;
    correction.emulatorPath = root + "/emulator";
    correction.adapterPath = root + "/adapter";
    correction.outDir = root + "/corrected";
    core::runCorrection(correction);

    core::ExportOptions options;
    options.modelPath = modelDir;
    options.adapterPath = root + "/corrected";
    options.format = core::ExportFormat::Peft;
    options.outPath = root + "/export_peft";
    core::ExportResult exported = core::runExport(options);
    COMPARE(exported.tensorsChecked, int64_t(2 * 7 * model.config.numLayers));
    VERIFY(std::filesystem::exists(options.outPath + "/correction_report.json"));

    // Our own loader reads back exactly what the correction wrote.
    core::PeftAdapter corrected = core::readPeftAdapter(root + "/corrected");
    core::PeftAdapter back = core::readPeftAdapter(options.outPath);
    COMPARE(back.config.baseModelNameOrPath, modelDir);
    for (const auto &entry : corrected.modules) {
        VERIFY(torch::equal(back.find(entry.module)->a, entry.a));
        VERIFY(torch::equal(back.find(entry.module)->b, entry.b));
        COMPARE(back.scaleFor(entry.module), 1.0);
    }

    // Our merged model's logits, then peft's.
    torch::Tensor ids =
        torch::tensor(std::vector<int64_t>{1, 17, 42, 99, 5, 63, 120, 8, 31, 64, 12, 9}).unsqueeze(0);
    torch::Tensor ours = logitsOf(model.config, core::mergeAdapterWeights(model.weights, back), ids);
    const std::string oursPath = root + "/ours.safetensors";
    core::writeSafetensors(oursPath, {{"input_ids", ids}, {"logits", ours.contiguous()}});
    auto result =
        runPythonScript("stage3_reference.py", {"peft_logits", modelDir, options.outPath, oursPath});
    info("peft: " + lastLine(result.out));
    VERIFY2(result.exitCode == 0, result.out + result.err);

    // The merged Hugging Face folder gives the same logits as the in-memory merge.
    options.format = core::ExportFormat::Merged;
    options.outPath = root + "/export_merged";
    exported = core::runExport(options);
    COMPARE(exported.maxVerifyError, 0.0);
    core::ModelFiles merged = core::openModel(options.outPath);
    const double mergedDiff = maxAbsDiff(logitsOf(merged.config, merged.weights, ids), ours);
    info(str("merged folder vs in-memory merge: max |logit diff| ", mergedDiff));
    VERIFY(mergedDiff < 1e-5);

    // An existing output is refused without --overwrite and replaced with it.
    VERIFY_THROWS(core::Error, core::runExport(options));
    options.overwrite = true;
    core::runExport(options);
}
