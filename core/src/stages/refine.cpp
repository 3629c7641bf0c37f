#include "emloc/stages/refine.h"

#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/vision/internvl_adapter.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

namespace emloc::core {

bool isRefinedAdapter(const std::string &adapterDir)
{
    std::error_code missing;
    return !adapterDir.empty() &&
           std::filesystem::exists(std::filesystem::path(adapterDir) / kRefineReportFile, missing);
}

nlohmann::json RefineResult::toJson() const
{
    return {{"layers", layers}, {"training", training.toJson()}};
}

RefineResult refineAdapter(const RefineOptions &options, const std::vector<TokenizedExample> &train,
                           const std::vector<TokenizedExample> &validation, Feedback &feedback)
{
    if (options.outDir.empty())
        throw Error("No output folder given for the refined adapter.");
    if (options.layers < 1)
        throw Error("refine: give at least one decoder layer to refine (it is " +
                    std::to_string(options.layers) + ")");
    // A vision-language model's language model is refined, the records' images put in through its tower;
    // its adapter is named for the checkpoint and read back under the language model's names.
    const StageModel original = openStageModel(options.modelPath);
    const std::optional<VisionLanguageFiles> &vision = original.vision;
    const ModelFiles &files = original.files;
    const PeftAdapter corrected = readStageAdapter(options.adapterPath, original, options.modelPath);
    const int64_t numLayers = files.config.numLayers;
    const int64_t first = std::max<int64_t>(0, numLayers - options.layers);

    // Early layers: merged into the frozen weights. Last layers: trained, starting from the correction.
    PeftAdapter early = corrected;
    early.modules.clear();
    LoraAdapter late;
    std::set<std::string> targets;
    for (const auto &module : corrected.modules) {
        if (peftModuleLayer(module.module) >= first) {
            late.modules[module.module] = {module.a.to(torch::kFloat32), module.b.to(torch::kFloat32)};
            targets.insert(peftModuleLocalName(module.module));
        } else {
            early.modules.push_back(module);
        }
    }
    if (late.modules.empty())
        throw Error(options.adapterPath + " has no LoRA module in the last " +
                    std::to_string(options.layers) + " decoder layers of " + options.modelPath +
                    "; nothing to refine");
    const int64_t rank = corrected.config.r;
    for (const auto &[name, factors] : late.modules)
        if (std::abs(corrected.scaleFor(name) - 1.0) > 1e-12 || factors.first.size(0) != rank)
            throw Error(
                options.adapterPath + ": module " + name +
                " is not a corrected adapter (scale 1, one rank); refine the output of 'emloc correct'");

    TrainOptions trainOptions = options.train;
    trainOptions.lora.rank = rank;
    trainOptions.lora.alpha = static_cast<double>(rank); // the corrected adapter's scale 1
    trainOptions.lora.rsLora = false;
    trainOptions.lora.targets.assign(targets.begin(), targets.end());
    trainOptions.loraLayers.clear();
    for (int64_t layer = first; layer < numLayers; ++layer)
        trainOptions.loraLayers.push_back(layer);
    trainOptions.baseModelName = options.modelPath;
    trainOptions.stage = Stage::Refine; // its steps are not stage 2's
    late.config = trainOptions.lora;

    CausalLMOptions modelOptions;
    modelOptions.placement.device = torch::Device(parseDevice(options.device).toString());
    modelOptions.placement.dtype = parseComputeDtype(options.dtype, modelOptions.placement.device);
    feedback.log(LogLevel::Info, "Refining the corrected LoRA of decoder layers " + std::to_string(first) +
                                     "-" + std::to_string(numLayers - 1) + " on the original model.");
    CausalLM model(files.config, mergeAdapterWeights(files.weights, early), modelOptions, &feedback);
    LoraTrainer trainer(model, trainOptions);
    loadAdapterInto(late, trainer.attachment());
    std::optional<ImageInputs> images;
    if (vision) {
        images.emplace(*vision, modelOptions.placement);
        trainer.setImageInputs(&*images);
    }

    RefineResult result;
    result.layers = trainOptions.loraLayers;
    result.training = trainer.run(train, validation, feedback);

    const LoraAdapter refined = extractAdapter(trainer.attachment(), options.modelPath);
    PeftAdapter output = corrected;
    output.config.baseModelNameOrPath = options.modelPath;
    for (auto &module : output.modules) {
        auto found = refined.modules.find(module.module);
        if (found != refined.modules.end()) {
            module.a = found->second.first;
            module.b = found->second.second;
        }
    }
    nlohmann::json report = result.toJson();
    report["model"] = options.modelPath;
    report["adapter"] = options.adapterPath;
    PeftWriteOptions writeOptions;
    writeOptions.overwrite = options.overwrite;
    if (vision && stageAdaptersNamedForCheckpoint(vision->config)) {
        output = toInternVLAdapter(std::move(output), vision->config);
        writeOptions.targetModules = internVLTargetModules(output);
    }
    writeOptions.extraFiles[kRefineReportFile] = report.dump(2) + "\n";
    // The correction's report travels on: the refined adapter is the corrected one, refined.
    const std::filesystem::path correction =
        std::filesystem::path(options.adapterPath) / kCorrectionReportFile;
    std::error_code missing;
    if (std::filesystem::exists(correction, missing))
        writeOptions.extraFiles[kCorrectionReportFile] = readTextFile(correction.string());
    writePeftAdapter(output, options.outDir, writeOptions);
    return result;
}

} // namespace emloc::core
