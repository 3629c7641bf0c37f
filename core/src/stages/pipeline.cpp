// `emloc run`: the three EMLoC stages, the evaluation and the exports chained from one configuration.
// Every stage folder carries pipeline-stage.json with a key: the hash of everything its output depends
// on (the inputs' fingerprints, the settings, the keys of the stages before it). A folder whose key
// matches is reused; any other is rebuilt.
#include "emloc/stages/pipeline.h"

#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/dist/collective.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/lora_training.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/internvl_mmproj.h"
#include "emloc/vision/vision_language_model.h"
#include "emloc/vision/vision_plan.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

namespace fs = std::filesystem;

namespace emloc::core {

namespace {

constexpr const char *kStampName = "pipeline-stage.json";

// The content of a data file, or its size, head and tail when it is too large to hash quickly.
std::string fileFingerprint(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read '" + path + "': check the path in the configuration");
    in.seekg(0, std::ios::end);
    const int64_t size = in.tellg();
    constexpr int64_t kWhole = int64_t(64) << 20, kEnd = int64_t(4) << 20;
    std::string bytes;
    auto readAt = [&](int64_t offset, int64_t count) {
        std::string part(static_cast<size_t>(count), '\0');
        in.seekg(offset);
        in.read(part.data(), count);
        bytes += part;
    };
    if (size <= kWhole) {
        readAt(0, size);
    } else {
        readAt(0, kEnd);
        readAt(size - kEnd, kEnd);
    }
    return sha256Hex(std::to_string(size) + ":" + bytes);
}

std::optional<nlohmann::json> readStamp(const std::string &folder)
{
    const fs::path path = fs::path(folder) / kStampName;
    if (!fs::exists(path))
        return std::nullopt;
    try {
        return nlohmann::json::parse(readTextFile(path.string()));
    } catch (const std::exception &) {
        return std::nullopt; // unreadable: the stage runs again
    }
}

bool stampMatches(const std::string &folder, const std::string &key)
{
    auto stamp = readStamp(folder);
    return stamp && stamp->value("key", "") == key && stamp->value("complete", false);
}

void writeStamp(const std::string &folder, const std::string &key, bool complete,
                const nlohmann::json &report)
{
    writeFileAtomically((fs::path(folder) / kStampName).string(),
                        nlohmann::json{{"key", key}, {"complete", complete}, {"report", report}}.dump(2) +
                            "\n");
}

// Measures one stage: time and the peak of the device's memory while it runs.
class StageTimer
{
public:
    StageTimer(Stage stage, const std::string &device, Feedback &feedback)
        : m_meter(device), m_start(std::chrono::steady_clock::now())
    {
        m_report.stage = stage;
        m_meter.reset();
        feedback.log(LogLevel::Info, "Stage '" + std::string(stageKey(stage)) + "' starts.");
    }
    StageReport finish(std::string output, nlohmann::json details)
    {
        m_report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        m_report.peakMemoryBytes = m_meter.read().peakBytes;
        m_report.output = std::move(output);
        m_report.details = std::move(details);
        return m_report;
    }

private:
    StageReport m_report;
    MemoryMeter m_meter;
    std::chrono::steady_clock::time_point m_start;
};

StageReport skippedStage(Stage stage, const std::string &output, Feedback &feedback)
{
    feedback.log(LogLevel::Info, "Stage '" + std::string(stageKey(stage)) + "': reusing " + output +
                                     " (made from the same inputs and settings).");
    StageReport report;
    report.stage = stage;
    report.skipped = true;
    report.output = output;
    if (auto stamp = readStamp(fs::is_directory(output) ? output : fs::path(output).parent_path().string()))
        report.details = stamp->value("report", nlohmann::json());
    if (report.details.is_object()) {
        report.seconds = report.details.value("seconds", 0.0);
        report.peakMemoryBytes = report.details.value("peak_memory_bytes", int64_t(-1));
    }
    return report;
}

nlohmann::json stageDetails(const StageReport &report, nlohmann::json details)
{
    details["seconds"] = report.seconds;
    details["peak_memory_bytes"] = report.peakMemoryBytes;
    return details;
}

double chooseEmulatorRatio(const PipelineConfig &config, const ModelFiles &files, Feedback &feedback)
{
    if (config.budgetBytes <= 0)
        return config.emulator.ratio;
    const RatioChoice choice = choosePipelineRatio(config, files.config);
    if (!choice.fits)
        throw Error("no emulator ratio fits the budget of " + formatBytes(config.budgetBytes) + ": " +
                    choice.advice);
    char ratio[16];
    std::snprintf(ratio, sizeof ratio, "%.2f", choice.ratio);
    feedback.log(LogLevel::Info, std::string("The planner chose ratio ") + ratio + " (predicted peak " +
                                     formatBytes(choice.plan.peakBytes()) + " within the budget of " +
                                     formatBytes(config.budgetBytes) + ").");
    return choice.ratio;
}

// Each planned stage's predicted peak beside its measured one, so the summary, the CLI table and the bench
// show whether the planner (the budget's guarantee) held.
// Several processes: stages 1 and 2 are planned for one process's share (the later stages run on rank 0).
void recordPlannedPeaks(const PipelineConfig &config, const ModelConfig &model, PipelineResult &result,
                        int processes)
{
    const MemoryPlan plan = planMemory(
        plannableConfig(model), processShare(pipelinePlanSettings(config), processes, config.train.gradAccum),
        result.ratio);
    for (StageReport &report : result.stages) {
        if (report.stage == Stage::Emulator)
            report.plannedPeakBytes = plan.construction.totalBytes();
        else if (report.stage == Stage::Train)
            report.plannedPeakBytes = plan.fineTuning.totalBytes();
        else if (report.stage == Stage::Correct)
            report.plannedPeakBytes = plan.correction.totalBytes();
        else if (report.stage == Stage::Refine)
            report.plannedPeakBytes = pipelineRefinementBytes(config, model);
    }
}

// Refinement holds the whole original model, so a budget that the EMLoC stages fit may not fit it (it
// does not depend on the ratio). Then the run ships the corrected adapter and says why.
bool refinementFitsBudget(const PipelineConfig &config, const ModelConfig &model, Feedback &feedback)
{
    if (config.budgetBytes <= 0)
        return true;
    const int64_t needed = pipelineRefinementBytes(config, model);
    if (needed <= config.budgetBytes)
        return true;
    feedback.log(LogLevel::Warning,
                 "Refining the last " + std::to_string(config.refine.layers) + " decoder layers needs " +
                     formatBytes(needed) + ", over the budget of " + formatBytes(config.budgetBytes) +
                     ": skipped, the corrected adapter is shipped. Raise the budget, or set "
                     "correct.refine_layers to 0 to run without it.");
    return false;
}

// The first place where two configurations differ ("train.lr: 0.0005 vs 0.001"), empty when equal.
std::string firstDifference(const nlohmann::json &ours, const nlohmann::json &theirs, const std::string &path)
{
    if (ours.is_object() && theirs.is_object()) {
        for (const auto &[key, value] : ours.items()) {
            const std::string inner = path.empty() ? key : path + "." + key;
            if (!theirs.contains(key))
                return inner + " is set only on one of them";
            if (std::string difference = firstDifference(value, theirs.at(key), inner); !difference.empty())
                return difference;
        }
        for (const auto &[key, value] : theirs.items())
            if (!ours.contains(key))
                return (path.empty() ? key : path + "." + key) + " is set only on one of them";
        return {};
    }
    return ours == theirs ? std::string() : path + ": " + ours.dump() + " against " + theirs.dump();
}

// Before any stage: every rank runs the same configuration on the same model and data.
void requireSameJob(const PipelineConfig &config, Collective &collective)
{
    nlohmann::json job = config.toJson();
    const std::string device = job.value("device", "cpu");
    job["device"] = device.rfind("cuda", 0) == 0 ? "cuda" : device; // each rank has its own GPU
    job["model fingerprint"] = modelFingerprint(config.model);
    job["training data fingerprint"] = fileFingerprint(config.trainData);
    const auto jobs = collective.allGather(job.dump(), "the comparison of the ranks' configurations");
    for (int r = 1; r < collective.worldSize(); ++r) {
        const std::string difference = firstDifference(
            nlohmann::json::parse(jobs[0]), nlohmann::json::parse(jobs[static_cast<size_t>(r)]), "");
        if (!difference.empty())
            throw Error(collective.describeRank(r) + " was started with another job than rank 0 (" +
                        difference + "): start every rank with the same configuration, model and data");
    }
}

// Several ranks: the largest peak of any rank is the stage's (each has the same budget), each one kept.
void recordRankPeaks(StageReport &report, Collective *collective)
{
    if (worldSizeOf(collective) == 1)
        return;
    nlohmann::json peaks = nlohmann::json::array();
    for (const std::string &peak :
         collective->allGather(std::to_string(report.peakMemoryBytes), "the memory peaks"))
        peaks.push_back(std::stoll(peak));
    report.peakMemoryBytes = *std::max_element(peaks.begin(), peaks.end());
    report.details["peak_memory_bytes"] = report.peakMemoryBytes;
    report.details["rank_peak_memory_bytes"] = peaks;
    report.details["processes"] = collective->worldSize();
}

struct PipelineRun
{
    const PipelineConfig &config;
    Feedback &feedback;
    Collective *collective; // null: one process
    // A vision-language original: the stages run its language model (`original`), with the records'
    // images put in through its frozen tower.
    std::optional<VisionLanguageFiles> vision;
    ModelFiles original;
    PipelineResult result;
    std::string emulatorDir, trainDir, correctedDir, refinedDir;
    std::string shippedDir; // the adapter evaluated and exported: refined when refining, else corrected

    // Rank 0's word on a decision every rank must take alike (one process: its own).
    std::string leaderSays(const std::string &what, const std::string &decision) const
    {
        return collective ? collective->broadcastText(decision, what) : decision;
    }

    std::string dataKey() const
    {
        return nlohmann::json{{"train", fileFingerprint(config.trainData)},
                              {"format", config.format},
                              {"template", config.chatTemplate},
                              {"system", config.systemPrompt},
                              {"max_length", config.maxLength}}
            .dump();
    }

    // The training file as every stage reads it (the emulator's calibration reads the same settings).
    LoraTrainingData trainingData() const
    {
        LoraTrainingData data;
        data.path = config.trainData;
        data.prepare.read.format = parseRecordFormat(config.format);
        data.prepare.tokenize.maxLength = config.maxLength;
        data.prepare.tokenize.systemPrompt = config.systemPrompt;
        data.validationFraction = config.validationFraction;
        if (vision)
            data.prepare.images = datasetImageTokens(*vision, config.trainData);
        return data;
    }

    // The training file tokenized as training sees it, split into training and the held-out share
    // (data.validation_fraction) by the training seed: the trainer and the evaluation see the same split.
    DatasetSplit trainingSplit(const ModelText &text) const
    {
        return prepareTrainingSplit(trainingData(), text, config.train.seed, feedback);
    }

    std::string buildEmulatorStage(const std::string &modelKey)
    {
        EmulatorOptions options = config.emulator;
        options.outputPath = emulatorDir;
        options.overwrite = true;
        options.ratio = result.ratio;
        options.device = config.device;
        options.calibration.dataPath = config.trainData;
        options.calibration.maxLength = config.maxLength;
        options.calibration.format = config.format;
        options.calibration.chatTemplate = config.chatTemplate;
        options.calibration.systemPrompt = config.systemPrompt;
        const nlohmann::json settings = config.toJson()["emulator"];
        const std::string key =
            sha256Hex(modelKey + dataKey() + settings.dump() + std::to_string(result.ratio));
        if (leaderSays("the emulator's reuse", stampMatches(emulatorDir, key) ? "reuse" : "build") ==
            "reuse") {
            result.stages.push_back(skippedStage(Stage::Emulator, emulatorDir, feedback));
            return key;
        }
        options.collective = collective;
        StageTimer timer(Stage::Emulator, config.device, feedback);
        const EmulatorBuildResult build =
            vision ? buildEmulator(*vision, options, feedback) : buildEmulator(original, options, feedback);
        StageReport report = timer.finish(emulatorDir, {});
        report.details = stageDetails(report, {{"ratio", result.ratio},
                                               {"original_parameters", build.originalParameters},
                                               {"emulator_parameters", build.emulatorParameters},
                                               {"calibration_tokens", build.calibrationTokens}});
        recordRankPeaks(report, collective);
        if (isLeader(collective))
            writeStamp(emulatorDir, key, true, report.details);
        if (collective)
            collective->followLeader("the emulator's writing");
        result.stages.push_back(report);
        return key;
    }

    std::string trainStage(const std::string &emulatorKey)
    {
        const std::string key = sha256Hex(emulatorKey + config.toJson()["train"].dump() +
                                          std::to_string(config.validationFraction));
        // Rank 0 decides, and prepares the folder, for all.
        std::string decision;
        if (isLeader(collective)) {
            auto stamp = readStamp(trainDir);
            if (stampMatches(trainDir, key))
                decision = "reuse";
            else if (stamp && stamp->value("key", "") == key && fs::exists(fs::path(trainDir) / "checkpoint"))
                decision = "resume";
            else
                decision = "fresh";
        }
        decision = leaderSays("the training's start", decision);
        if (decision == "reuse") {
            result.stages.push_back(skippedStage(Stage::Train, trainDir, feedback));
            return key;
        }
        TrainOptions options = config.train;
        options.outputDir = trainDir;
        options.baseModelName = emulatorDir;
        options.collective = collective;
        options.resume = decision == "resume";
        if (options.resume) {
            feedback.log(LogLevel::Info, "Resuming the training in " + trainDir + " from its checkpoint.");
        } else if (isLeader(collective) && fs::exists(trainDir)) {
            feedback.log(LogLevel::Info, "Training afresh in " + trainDir +
                                             " (its inputs or settings changed, or it holds no checkpoint).");
            fs::remove_all(trainDir);
        }
        if (isLeader(collective)) {
            fs::create_directories(trainDir);
            writeStamp(trainDir, key, false, {});
        }
        if (collective)
            collective->followLeader("the training folder's preparation");

        StageTimer timer(Stage::Train, config.device, feedback);
        // The emulator has the original's vocabulary; its text comes from the original's files.
        const ModelText text = openModelText(original, config.chatTemplate, &feedback);
        // The images go through the emulator's tower: the source's, or its compressed one.
        const std::optional<VisionLanguageFiles> emulatorVision =
            vision ? visionSourceOfEmulator(emulatorDir) : std::nullopt;
        const TrainResult trained =
            trainLora(openModel(emulatorDir), text, trainingData(), options, config.device, "auto", feedback,
                      emulatorVision ? &*emulatorVision : nullptr);
        StageReport report = timer.finish(trainDir, {});
        report.details = stageDetails(report, trained.toJson());
        recordRankPeaks(report, collective);
        if (isLeader(collective))
            writeStamp(trainDir, key, true, report.details);
        result.stages.push_back(report);
        return key;
    }

    std::string correctStage(const std::string &trainKey)
    {
        const std::string key = sha256Hex(trainKey + "clamp " + std::to_string(config.clampLimit));
        if (stampMatches(correctedDir, key)) {
            result.stages.push_back(skippedStage(Stage::Correct, correctedDir, feedback));
            return key;
        }
        StageTimer timer(Stage::Correct, config.device, feedback);
        CorrectionOptions options;
        options.modelPath = config.model;
        options.emulatorPath = emulatorDir;
        options.adapterPath = trainDir;
        options.outDir = correctedDir;
        options.clampLimit = config.clampLimit;
        options.device = config.device;
        options.overwrite = true;
        const CorrectionReport correction = runCorrection(options, &feedback);
        StageReport report = timer.finish(correctedDir, {});
        nlohmann::json summary = {{"modules", correction.modules.size()},
                                  {"clamped_components", correction.clampedComponents()},
                                  {"clamp", correction.clampLimit}};
        report.details = stageDetails(report, summary);
        writeStamp(correctedDir, key, true, report.details);
        result.stages.push_back(report);
        return key;
    }

    // The corrected LoRA of the last layers fine-tuned on the original (refine.h), on the same training
    // split as stage 2, with its recipe but refine's steps and learning rate.
    std::string refineStage(const std::string &correctKey)
    {
        const std::string key = sha256Hex(correctKey + config.toJson()["correct"].dump());
        if (stampMatches(refinedDir, key)) {
            result.stages.push_back(skippedStage(Stage::Refine, refinedDir, feedback));
            return key;
        }
        StageTimer timer(Stage::Refine, config.device, feedback);
        const ModelText text = openModelText(original, config.chatTemplate);
        const DatasetSplit split = trainingSplit(text);
        RefineOptions options = config.refine;
        options.modelPath = config.model;
        options.adapterPath = correctedDir;
        options.outDir = refinedDir;
        options.device = config.device;
        options.overwrite = true;
        const int64_t steps = options.train.steps;
        const double lr =
            options.train.learningRate > 0 ? options.train.learningRate : config.train.learningRate;
        options.train = config.train;
        options.train.steps = steps;
        options.train.learningRate = lr;
        options.train.outputDir.clear(); // a few minutes: rerun whole rather than resumed
        options.train.evalEvery = 0;
        options.train.earlyStoppingPatience = 0;
        options.train.frozenPrefixBytes = refinementPrefixBytes(config, original.config);
        const RefineResult refined = refineAdapter(options, split.train, split.validation, feedback);
        StageReport report = timer.finish(refinedDir, {});
        report.details = stageDetails(report, refined.toJson());
        writeStamp(refinedDir, key, true, report.details);
        result.stages.push_back(report);
        return key;
    }

    void evaluateStage(const std::string &correctKey)
    {
        const std::string out = (fs::path(config.outputDir) / "evaluation.json").string();
        const bool heldOutShare = config.testData.empty();
        const std::string key = sha256Hex(correctKey +
                                          (heldOutShare ? "share " + std::to_string(config.validationFraction)
                                                        : fileFingerprint(config.testData)) +
                                          config.toJson()["evaluate"].dump());
        if (fs::exists(out)) {
            try {
                const auto saved = nlohmann::json::parse(readTextFile(out));
                if (saved.value("key", "") == key) {
                    feedback.log(LogLevel::Info, "Stage 'evaluate': reusing " + out + ".");
                    StageReport report;
                    report.stage = Stage::Evaluate;
                    report.skipped = true;
                    report.output = out;
                    report.details = saved.value("report", nlohmann::json());
                    report.seconds = report.details.value("seconds", 0.0);
                    report.peakMemoryBytes = report.details.value("peak_memory_bytes", int64_t(-1));
                    result.evaluation = evaluationFromJson(saved.at("result"));
                    // An evaluation saved before the result said so: the adapter's folder tells.
                    result.evaluation.correctedRefined = isRefinedAdapter(shippedDir);
                    result.evaluated = true;
                    result.stages.push_back(report);
                    return;
                }
            } catch (const std::exception &) {
                // unreadable: evaluate again
            }
        }
        StageTimer timer(Stage::Evaluate, config.device, feedback);
        EvaluationOptions options = config.evaluation;
        options.modelPath = config.model;
        options.emulatorPath = emulatorDir;
        options.adapterPath = trainDir;
        options.correctedPath = shippedDir;
        options.dataPath = config.testData;
        options.format = config.format;
        options.chatTemplate = config.chatTemplate;
        options.systemPrompt = config.systemPrompt;
        options.maxLength = config.maxLength;
        options.device = config.device;
        if (heldOutShare) {
            // No held-out file: the share of the training data the trainer never trained on.
            const ModelText text = openModelText(original, config.chatTemplate);
            const DatasetSplit split = trainingSplit(text);
            char share[32];
            std::snprintf(share, sizeof share, "%.0f %%", 100.0 * config.validationFraction);
            const std::string source = "the held-out " + std::string(share) + " of " + config.trainData +
                                       " (" + std::to_string(split.validation.size()) +
                                       " examples not trained on)";
            feedback.log(LogLevel::Info, "No held-out file (data.test): evaluating on " + source + ".");
            result.evaluation = runEvaluation(options, split.validation, source, &feedback);
        } else {
            result.evaluation = runEvaluation(options, &feedback);
        }
        result.evaluated = true;
        StageReport report = timer.finish(out, {});
        report.details = stageDetails(report, {});
        writeFileAtomically(
            out,
            nlohmann::json{{"key", key}, {"report", report.details}, {"result", result.evaluation.toJson()}}
                    .dump(2) +
                "\n");
        result.stages.push_back(report);
    }

    void exportStage()
    {
        StageTimer timer(Stage::Export, config.device, feedback);
        result.exports = exportPipelineRun(config, shippedDir, feedback);
        nlohmann::json written = nlohmann::json::array();
        for (const ExportResult &exported : result.exports)
            written.push_back(exported.toJson());
        StageReport report = timer.finish(RunFolder{config.outputDir}.exports().string(), {});
        report.details = stageDetails(report, {{"exports", written}});
        result.stages.push_back(report);
    }
};

} // namespace

PlanSettings pipelinePlanSettings(const PipelineConfig &config)
{
    PlanSettings settings;
    settings.batchSize = config.train.batchSize;
    settings.sequenceLength = config.maxLength;
    settings.loraRank = config.train.lora.rank;
    settings.loraTargets = config.train.lora.targets;
    settings.gradientCheckpointing = config.train.gradientCheckpointing;
    settings.cuda = config.device.rfind("cuda", 0) == 0;
    settings.calibrationSamples = config.emulator.calibration.samples;
    settings.calibrationSequenceLength = config.maxLength;
    settings.gramFloat64 = config.emulator.gramFloat64;
    settings.keepLastDownProjDense = config.emulator.keepLastDownProjDense;
    settings.refineLayers = config.refine.layers;
    // A vision-language model's tower and projector run in every stage beside its language model.
    if (isVisionLanguageFolder(config.model))
        addVisionToPlan(settings, openVisionLanguageModel(config.model), config.emulator.visionRatio);
    return settings;
}

RatioChoice choosePipelineRatio(const PipelineConfig &config, const ModelConfig &model)
{
    return choosePipelineRatio(config, model, pipelinePlanSettings(config));
}

RatioChoice choosePipelineRatio(const PipelineConfig &config, const ModelConfig &model,
                                const PlanSettings &settings)
{
    const ModelConfig plannable = plannableConfig(model);
    if (config.budgetBytes > 0)
        return chooseRatio(plannable, settings, config.budgetBytes);
    RatioChoice choice;
    choice.fits = true;
    choice.ratio = config.emulator.ratio;
    choice.plan = planMemory(plannable, settings, choice.ratio);
    return choice;
}

std::string pipelineExportName(ExportFormat format)
{
    switch (format) {
    case ExportFormat::Peft:
        return "peft-adapter";
    case ExportFormat::Merged:
        return "merged-model";
    case ExportFormat::GgufLora:
        return "adapter.gguf";
    case ExportFormat::GgufMerged:
        return "merged-model.gguf";
    case ExportFormat::GgufMmproj:
        return "mmproj.gguf";
    case ExportFormat::Ollama:
        return "ollama";
    }
    return "export";
}

std::vector<ExportResult> exportPipelineRun(const PipelineConfig &config, const std::string &adapterDir,
                                            Feedback &feedback)
{
    const fs::path exportDir = RunFolder{config.outputDir}.exports();
    fs::create_directories(exportDir);
    std::vector<ExportResult> exports;
    for (ExportFormat format : config.exports) {
        ExportOptions options;
        options.modelPath = config.model;
        options.adapterPath = adapterDir;
        options.format = format;
        options.overwrite = true;
        options.chatTemplate = config.chatTemplate;
        options.systemPrompt = config.systemPrompt;
        options.outPath = (exportDir / pipelineExportName(format)).string();
        feedback.checkpoint();
        feedback.stageProgress(Stage::Export, static_cast<int64_t>(exports.size()),
                               static_cast<int64_t>(config.exports.size()), pipelineExportName(format));
        exports.push_back(runExport(options, &feedback));
        feedback.log(LogLevel::Info, "Exported " + exports.back().format + " to " + exports.back().path +
                                         " (verified, " + std::to_string(exports.back().tensorsChecked) +
                                         " tensors).");
    }
    feedback.stageProgress(Stage::Export, static_cast<int64_t>(exports.size()),
                           static_cast<int64_t>(config.exports.size()));
    return exports;
}

nlohmann::json PipelineResult::toJson() const
{
    nlohmann::json stageList = nlohmann::json::array();
    for (const auto &stage : stages)
        stageList.push_back({{"stage", stageKey(stage.stage)},
                             {"skipped", stage.skipped},
                             {"seconds", stage.seconds},
                             {"peak_memory_bytes", stage.peakMemoryBytes},
                             {"planned_peak_memory_bytes", stage.plannedPeakBytes},
                             {"output", stage.output},
                             {"details", stage.details}});
    nlohmann::json exportList = nlohmann::json::array();
    for (const auto &e : exports)
        exportList.push_back(e.toJson());
    return {
        {"ratio", ratio},        {"inference_peak_memory_bytes", inferencePeakBytes},
        {"stages", stageList},   {"evaluation", evaluated ? evaluation.toJson() : nlohmann::json(nullptr)},
        {"exports", exportList}, {"adapter", adapterDir}};
}

int64_t pipelineRefinementBytes(const PipelineConfig &config, const ModelConfig &model)
{
    if (config.refine.layers <= 0)
        return 0;
    PlanSettings settings = pipelinePlanSettings(config);
    settings.frozenPrefixBytes = refinementPrefixBytes(config, model);
    return planMemory(plannableConfig(model), settings, 1.0).refinement.totalBytes();
}

int64_t refinementPrefixBytes(const PipelineConfig &config, const ModelConfig &model)
{
    if (config.budgetBytes <= 0)
        return -1;
    const ModelConfig plannable = plannableConfig(model);
    PlanSettings settings = pipelinePlanSettings(config);
    const int64_t cap = frozenPrefixCapBytes(plannable, settings);
    settings.frozenPrefixBytes = 0;
    const int64_t without = planMemory(plannable, settings, 1.0).refinement.totalBytes();
    return std::clamp<int64_t>(config.budgetBytes - without, 0, cap);
}

PipelineResult pipelineResultFromJson(const nlohmann::json &json)
{
    PipelineResult result;
    try {
        result.ratio = json.at("ratio").get<double>();
        result.inferencePeakBytes = json.value("inference_peak_memory_bytes", int64_t(-1));
        for (const auto &entry : json.at("stages")) {
            StageReport stage;
            const std::string key = entry.at("stage").get<std::string>();
            const std::optional<Stage> known = stageFromKey(key);
            if (!known || key.find(' ') != std::string::npos)
                throw Error("'stages' names an unknown stage '" + key + "'");
            stage.stage = *known;
            stage.skipped = entry.value("skipped", false);
            stage.seconds = entry.value("seconds", 0.0);
            stage.peakMemoryBytes = entry.value("peak_memory_bytes", int64_t(-1));
            // Written since the planner's figures were recorded; -1 (not planned) in older summaries.
            stage.plannedPeakBytes = entry.value("planned_peak_memory_bytes", int64_t(-1));
            stage.output = entry.value("output", "");
            stage.details = entry.value("details", nlohmann::json());
            result.stages.push_back(std::move(stage));
        }
        const nlohmann::json &evaluation = json.value("evaluation", nlohmann::json());
        result.evaluated = evaluation.is_object();
        if (result.evaluated)
            result.evaluation = evaluationFromJson(evaluation);
        for (const auto &entry : json.value("exports", nlohmann::json::array())) {
            ExportResult written;
            written.format = entry.at("format").get<std::string>();
            written.path = entry.at("path").get<std::string>();
            written.bytes = entry.value("bytes", uint64_t(0));
            written.tensorsChecked = entry.value("tensors_checked", int64_t(0));
            written.maxVerifyError = entry.value("max_verify_error", 0.0);
            written.seconds = entry.value("seconds", 0.0);
            result.exports.push_back(std::move(written));
        }
        result.adapterDir = json.value("adapter", "");
    } catch (const nlohmann::json::exception &error) {
        throw Error(std::string("not a run summary: ") + error.what());
    }
    return result;
}

std::optional<PipelineResult> readPipelineSummary(const std::string &outputDir)
{
    const fs::path path = RunFolder{outputDir}.summary();
    if (!fs::exists(path))
        return std::nullopt;
    std::ifstream file(path);
    const nlohmann::json json = nlohmann::json::parse(file, nullptr, false);
    try {
        if (!file || json.is_discarded())
            throw Error("it is not readable JSON");
        return pipelineResultFromJson(json);
    } catch (const Error &error) {
        throw Error("the run summary '" + path.string() + "' cannot be read: " + error.what() +
                    ". Run the pipeline again to rewrite it.");
    }
}

std::string pipelineShippedAdapter(const std::string &outputDir)
{
    const RunFolder run{outputDir};
    std::optional<PipelineResult> summary;
    try {
        summary = readPipelineSummary(outputDir);
    } catch (const Error &) {
        // An unreadable summary still leaves the corrected adapter, the method's output, to ship.
    }
    if (summary && !summary->adapterDir.empty() &&
        fs::exists(run.root / summary->adapterDir / "adapter_config.json")) // a folder of the run
        return (run.root / summary->adapterDir).string();
    const fs::path corrected = run.correctedAdapter();
    return fs::exists(corrected / "adapter_config.json") ? corrected.string() : std::string();
}

PipelineResult runPipeline(const PipelineConfig &config, Feedback &feedback, Collective *collective)
{
    // A device this machine lacks fails before any stage starts, naming where it was asked for.
    try {
        const std::vector<DeviceSpec> devices = parseDeviceList(config.device);
        if (devices.size() > 1)
            throw Error("the device '" + config.device + "' lists " + std::to_string(devices.size()) +
                        " GPUs, one process each: run it with `emloc run` or the Studio, which start the "
                        "processes");
        requireDevice(devices.front());
    } catch (const Error &error) {
        throw Error(std::string(error.what()) + " (\"device\" in the run configuration)");
    }
    StageModel original = openStageModel(config.model);
    const auto exports = [&config](ExportFormat format) {
        return std::find(config.exports.begin(), config.exports.end(), format) != config.exports.end();
    };
    if (original.vision) {
        if (exports(ExportFormat::GgufMmproj) || exports(ExportFormat::Ollama))
            internVLMmprojTensorNames(*original.vision); // a tower llama.cpp cannot run is refused now
    } else if (exports(ExportFormat::GgufMmproj)) {
        throw Error("\"export\" asks for \"gguf-mmproj\", the vision projector of a vision-language model, "
                    "but '" +
                    config.model + "' is a text model; remove it from \"export\"");
    }
    if (!original.vision && config.emulator.visionRatio > 0)
        throw Error("emulator.vision_ratio compresses a vision-language model's vision tower, but '" +
                    config.model + "' is a text model; set it to 0 or remove it");
    PipelineRun run{config, feedback, collective, std::move(original.vision), std::move(original.files), {},
                    {},     {},       {}};
    requireTokenizer(run.original); // before any stage runs
    if (!fs::is_regular_file(config.trainData))
        throw Error("the training data '" + config.trainData +
                    "' does not exist; fix data.train in the configuration");
    if (!config.testData.empty() && !fs::is_regular_file(config.testData))
        throw Error("the held-out data '" + config.testData +
                    "' does not exist; fix data.test in the configuration");
    if (worldSizeOf(collective) > 1)
        requireSameJob(config, *collective);
    std::error_code error;
    if (isLeader(collective)) {
        fs::create_directories(config.outputDir, error);
        if (error || !fs::is_directory(config.outputDir))
            throw Error("cannot create the output folder '" + config.outputDir + "': " + error.message());
        writeFileAtomically(RunFolder{config.outputDir}.configuration().string(),
                            config.toJson().dump(2) + "\n");
    }

    const RunFolder folder{config.outputDir};
    run.emulatorDir = folder.emulator().string();
    run.trainDir = folder.training().string();
    run.correctedDir = folder.correctedAdapter().string();
    run.refinedDir = folder.refinedAdapter().string();
    run.result.ratio = chooseEmulatorRatio(config, run.original, feedback);
    const bool refine =
        config.refine.layers > 0 && refinementFitsBudget(config, run.original.config, feedback);
    run.shippedDir = refine ? run.refinedDir : run.correctedDir;
    run.result.adapterDir = fs::path(run.shippedDir).filename().string();

    const std::string modelKey = modelFingerprint(config.model) + config.device;
    const std::string emulatorKey = run.buildEmulatorStage(modelKey);
    const std::string trainKey = run.trainStage(emulatorKey);
    if (!isLeader(collective)) {
        feedback.log(LogLevel::Info, "Stages 1 and 2 done on this rank; rank 0 goes on with the correction, "
                                     "the evaluation and the exports.");
        return run.result;
    }
    std::string correctKey = run.correctStage(trainKey);
    if (refine)
        correctKey = run.refineStage(correctKey);
    if (!config.testData.empty() || config.validationFraction > 0) {
        run.evaluateStage(correctKey);
        for (const auto &model : run.result.evaluation.models)
            if (model.name == "original")
                run.result.inferencePeakBytes = model.peakMemoryBytes;
    } else {
        feedback.log(LogLevel::Warning,
                     "No held-out data: the evaluation is skipped. Give data.test, or hold out "
                     "a share of the training data with data.validation_fraction.");
    }
    if (!config.exports.empty())
        run.exportStage();
    recordPlannedPeaks(config, run.original.config, run.result, worldSizeOf(collective));
    writeFileAtomically(folder.summary().string(), run.result.toJson().dump(2) + "\n");
    return run.result;
}

} // namespace emloc::core
