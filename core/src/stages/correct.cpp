#include "emloc/stages/correct.h"

#include "emloc/api/error.h"
#include "emloc/api/stages.h"
#include "emloc/math/lora_correction.h"
#include "emloc/util/memory.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/vision_language_model.h"

#include <chrono>
#include <optional>

namespace emloc::core {

int64_t CorrectionReport::clampedComponents() const
{
    int64_t total = 0;
    for (const auto &module : modules)
        total += module.clampedComponents;
    return total;
}

nlohmann::json CorrectionReport::toJson() const
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto &m : modules)
        list.push_back({{"module", m.module},
                        {"rank", m.rank},
                        {"scale", m.scale},
                        {"update_norm", m.updateNorm},
                        {"emulator_gap_norm", m.emulatorGapNorm},
                        {"unclamped_correction_norm", m.unclampedNorm},
                        {"correction_norm", m.correctionNorm},
                        {"clamped_components", m.clampedComponents}});
    return {{"clamp_limit", clampLimit > 0 ? nlohmann::json(clampLimit) : nlohmann::json(nullptr)},
            {"clamp_enabled", clampLimit > 0},
            {"modules", list},
            {"module_count", modules.size()},
            {"clamped_components", clampedComponents()},
            {"seconds", seconds}};
}

PeftAdapter correctAdapter(const PeftAdapter &adapter, const WeightSource &original,
                           const WeightSource &emulator, double clampLimit, const std::string &device,
                           CorrectionReport *report, Feedback *feedback)
{
    const auto start = std::chrono::steady_clock::now();
    const torch::Device target(device);
    auto linearAlgebra = makeLinearAlgebra(device);
    const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(target);

    PeftAdapter corrected;
    corrected.config.r = adapter.config.r;
    corrected.config.loraAlpha = static_cast<double>(adapter.config.r);
    corrected.config.useRslora = false;
    corrected.config.targetModules = adapter.config.targetModules;
    corrected.config.baseModelNameOrPath = adapter.config.baseModelNameOrPath;
    corrected.config.raw = {{"lora_dropout", 0.0}};
    CorrectionReport local;
    local.clampLimit = clampLimit;

    const int64_t total = static_cast<int64_t>(adapter.modules.size());
    const MemoryMeter meter(device); // the caller's measurement window: the stage's peak so far
    for (int64_t i = 0; i < total; ++i) {
        const PeftLoraModule &entry = adapter.modules[i];
        // The float64 copies of the previous layer's modules are garbage now (trimming per module would
        // double the stage's time).
        if (i > 0 && peftModuleLayer(entry.module) != peftModuleLayer(adapter.modules[i - 1].module))
            releaseFreedMemory();
        if (feedback) {
            feedback->checkpoint();
            feedback->stageProgress(Stage::Correct, i, total);
        }
        const std::string weightName = entry.module + ".weight";
        CorrectionInput input;
        input.original = original.tensor(weightName).to(options);
        input.emulator = emulator.tensor(weightName).to(options);
        input.loraA = entry.a.to(options);
        input.loraB = entry.b.to(options);
        input.scale = adapter.scaleFor(entry.module);
        input.clampLimit = clampLimit;
        if (!input.emulator.sizes().equals(input.original.sizes()))
            throw Error("The emulator's '" + weightName + "' is " + c10::str(input.emulator.sizes()) +
                        " but the original model's is " + c10::str(input.original.sizes()) +
                        ": the emulator was not built from this model.");
        CorrectedLora result = correctLora(input, *linearAlgebra);

        ModuleCorrection summary;
        summary.module = entry.module;
        summary.rank = entry.a.size(0);
        summary.scale = input.scale;
        summary.updateNorm = (input.loraB.matmul(input.loraA) * input.scale).norm().item<double>();
        summary.emulatorGapNorm = (input.original - input.emulator).norm().item<double>();
        summary.unclampedNorm = result.unclampedNorm;
        summary.correctionNorm = result.correctionNorm;
        summary.clampedComponents = result.clampedComponents;
        local.modules.push_back(summary);
        // float32 is what PEFT and llama.cpp load; the maths ran in float64.
        corrected.modules.push_back({entry.module, result.a.to(torch::kCPU, torch::kFloat32),
                                     result.b.to(torch::kCPU, torch::kFloat32)});
        if (feedback) {
            // One sample per module: the GUI's memory plot and stage table see stage 3 like the others.
            const MemoryReading reading = meter.read();
            MetricSample sample;
            sample.stage = stageKey(Stage::Correct);
            sample.step = i + 1;
            sample.totalSteps = total;
            sample.elapsedSeconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            sample.etaSeconds = sample.elapsedSeconds / double(i + 1) * double(total - i - 1);
            sample.memoryBytes = reading.currentBytes;
            sample.peakMemoryBytes = reading.peakBytes;
            feedback->metric(sample);
        }
    }
    if (feedback)
        feedback->stageProgress(Stage::Correct, total, total);
    local.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (report)
        *report = std::move(local);
    return corrected;
}

CorrectionReport runCorrection(const CorrectionOptions &options, Feedback *feedback)
{
    if (options.outDir.empty())
        throw Error("No output folder given for the corrected adapter.");
    // A vision-language model's adapter sits on its language model, which its emulator emulates; it is
    // written under the checkpoint's own names, for peft.
    const StageModel original = openStageModel(options.modelPath);
    const std::optional<VisionLanguageFiles> &vision = original.vision;
    ModelFiles model = original.files;
    PeftAdapter adapter = readPeftAdapter(options.adapterPath);
    validatePeftAdapter(adapter, *model.weights, options.modelPath);
    auto emulator = openEmulatorWeights(options.emulatorPath, model.weights);
    validatePeftAdapter(adapter, *emulator, options.emulatorPath);
    if (feedback)
        feedback->log(LogLevel::Info, "Correcting " + std::to_string(adapter.modules.size()) +
                                          " LoRA modules of '" + options.adapterPath + "' for '" +
                                          options.modelPath + "'");

    CorrectionReport report;
    PeftAdapter corrected = correctAdapter(adapter, *model.weights, *emulator, options.clampLimit,
                                           options.device, &report, feedback);
    corrected.config.baseModelNameOrPath = options.modelPath;

    nlohmann::json reportJson = report.toJson();
    reportJson["model"] = options.modelPath;
    reportJson["emulator"] = options.emulatorPath;
    reportJson["adapter"] = options.adapterPath;
    PeftWriteOptions writeOptions;
    if (vision && stageAdaptersNamedForCheckpoint(vision->config)) {
        corrected = toInternVLAdapter(std::move(corrected), vision->config);
        writeOptions.targetModules = internVLTargetModules(corrected);
    }
    writeOptions.overwrite = options.overwrite;
    writeOptions.extraFiles = options.extraFiles;
    writeOptions.extraFiles[kCorrectionReportFile] = reportJson.dump(2) + "\n";
    writePeftAdapter(corrected, options.outDir, writeOptions);
    return report;
}

} // namespace emloc::core
