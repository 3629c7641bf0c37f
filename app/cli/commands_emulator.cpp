// `emloc plan`, `emloc build-emulator` and `emloc evaluate-loss`: what each stage will cost, stage 1
// itself, and the full model's loss and memory on the same samples (the inference reference).
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/math/activation_svd.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/calibration.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/stages/pipeline.h"
#include "emloc/util/memory.h"
#include "emloc/vision/vision_language_model.h"
#include "emloc/vision/vision_plan.h"

#include <cmath>
#include <cstdio>
#include <optional>

namespace emloc::cli {

namespace {

// `emloc plan` describes a run as `emloc run` would make it: the defaults are core's (PipelineConfig).
struct PlanArguments
{
    std::string model;
    std::string configFile; // --config: a config.json alone, no weights
    std::string catalog;    // --catalog NAME, or "all" for the table of what fits
    std::string data;
    double budgetGb = 0;
    double ratio = 0;
    bool noCheckpointing = false;
    std::string deviceKind; // --for: cpu or cuda; empty: the --device's
    std::string dtype = "auto";
    int processes = 1; // --processes: what each of N data-parallel processes holds
    core::PipelineConfig run;
};

struct BuildArguments
{
    std::string model;
    std::string out;
    core::EmulatorOptions options;
    std::vector<std::string> overrides;
    double budgetGb = 0;
    bool ratioGiven = false;
    std::string metricsFile;
};

int64_t gigabytes(double gb)
{
    return static_cast<int64_t>(std::llround(gb * double(1LL << 30)));
}

nlohmann::json stageJson(const core::StageEstimate &stage)
{
    nlohmann::json items = nlohmann::json::array();
    for (const auto &item : stage.items)
        items.push_back({{"name", item.name}, {"bytes", item.bytes}});
    return {{"stage", stage.stage}, {"total_bytes", stage.totalBytes()}, {"items", items}};
}

nlohmann::json planJson(const core::MemoryPlan &plan)
{
    nlohmann::json out = {{"ratio", plan.ratio},
                          {"emulator_parameters", plan.emulatorParameters},
                          {"lora_parameters", plan.loraParameters},
                          {"peak_bytes", plan.peakBytes()},
                          {"inference", stageJson(plan.inference)},
                          {"construction", stageJson(plan.construction)},
                          {"fine_tuning", stageJson(plan.fineTuning)},
                          {"correction", stageJson(plan.correction)},
                          {"full_lora", stageJson(plan.fullLora)}};
    if (!plan.refinement.items.empty())
        out["refinement"] = stageJson(plan.refinement);
    return out;
}

void printPlanTable(CommandOutput &output, const core::MemoryPlan &plan)
{
    std::vector<const core::StageEstimate *> stages{&plan.inference, &plan.construction, &plan.fineTuning,
                                                    &plan.correction, &plan.fullLora};
    std::vector<const char *> titles{"Inference (original model)", "Stage 1: build the emulator",
                                     "Stage 2: LoRA on the emulator", "Stage 3: correct the LoRA",
                                     "Baseline: LoRA on the full model"};
    if (!plan.refinement.items.empty()) {
        stages.insert(stages.begin() + 4, &plan.refinement);
        titles.insert(titles.begin() + 4, "Stage 3b: refine the last layers");
    }
    for (size_t i = 0; i < stages.size(); ++i) {
        output.printf("%-34s %12s\n", titles[i], core::formatBytes(stages[i]->totalBytes()).c_str());
        for (const auto &item : stages[i]->items)
            output.printf("    %-30s %12s\n", item.name.c_str(), core::formatBytes(item.bytes).c_str());
    }
    output.printf("EMLoC peak (largest of stages 1-3) %12s at ratio %.2f (emulator %.1f M parameters)\n",
                  core::formatBytes(plan.peakBytes()).c_str(), plan.ratio,
                  double(plan.emulatorParameters) / 1e6);
}

core::PlanSettings catalogPlanSettings(const PlanArguments &args)
{
    core::PlanSettings settings = core::pipelinePlanSettings(args.run);
    if (args.dtype != "auto")
        settings.valueBytes = core::typeBytes(*core::floatTypeFromName(args.dtype)); // checked by the option
    return core::processShare(settings, args.processes, args.run.train.gradAccum);
}

std::string yesNo(bool fits, int64_t bytes)
{
    return (fits ? "yes " : "no  ") + core::formatBytes(bytes);
}

// `emloc plan --catalog all --budget-gb G`: which popular models fit, for what, before any download.
void printCatalogFits(CommandOutput &output, CliContext &context, const PlanArguments &args)
{
    const core::PlanSettings settings = catalogPlanSettings(args);
    const int64_t budget = args.run.budgetBytes;
    const bool wide = core::valueBytesOf(settings) == 4;
    nlohmann::json rows = nlohmann::json::array();
    if (!context.json) {
        output.printf(
            "What fits in %s on %s (%s values, batch %lld x %lld tokens, LoRA r %lld, refinement of "
            "%lld layers):\n\n",
            core::formatBytes(budget).c_str(), settings.cuda ? "a CUDA GPU" : "the CPU",
            wide ? "32-bit" : "16-bit", static_cast<long long>(settings.batchSize),
            static_cast<long long>(settings.sequenceLength), static_cast<long long>(settings.loraRank),
            static_cast<long long>(settings.refineLayers));
        output.printf("%-16s %7s  %-15s %-15s %-22s %s\n", "model", "params", "inference", "LoRA (full)",
                      "EMLoC", "refinement");
    }
    for (const core::CatalogModel &model : core::catalogModels()) {
        const core::ModelFit fit = core::planFit(model.config, settings, budget);
        if (context.json) {
            rows.push_back(
                {{"name", model.name},
                 {"repository", model.repository},
                 {"parameters", fit.parameters},
                 {"inference_bytes", fit.inferenceBytes},
                 {"inference_fits", fit.inferenceFits},
                 {"full_lora_bytes", fit.fullLoraBytes},
                 {"full_lora_fits", fit.fullLoraFits},
                 {"emloc_fits", fit.emloc.fits},
                 {"emloc_ratio", fit.emloc.fits ? nlohmann::json(fit.emloc.ratio) : nlohmann::json()},
                 {"emloc_peak_bytes", fit.emloc.plan.peakBytes()},
                 {"refinement_bytes", fit.refinementBytes},
                 {"refinement_fits", fit.refinementFits},
                 {"caveat", fit.caveat}});
            continue;
        }
        char emloc[64];
        if (fit.fullLoraFits)
            std::snprintf(emloc, sizeof emloc, "not needed");
        else
            std::snprintf(emloc, sizeof emloc, fit.emloc.fits ? "ratio %.2f%s, %s" : "no  (%.2f%s: %s)",
                          fit.emloc.ratio, fit.emloc.ratio < 0.4 ? "*" : "",
                          core::formatBytes(fit.emloc.plan.peakBytes()).c_str());
        const std::string refinement =
            settings.refineLayers > 0 ? yesNo(fit.refinementFits, fit.refinementBytes) : "off";
        output.printf("%-16s %6.1fB  %-15s %-15s %-22s %s\n", model.name.c_str(),
                      double(fit.parameters) / 1e9, yesNo(fit.inferenceFits, fit.inferenceBytes).c_str(),
                      yesNo(fit.fullLoraFits, fit.fullLoraBytes).c_str(), emloc, refinement.c_str());
    }
    if (context.json) {
        output.setJson(
            {{"budget_bytes", budget}, {"device", settings.cuda ? "cuda" : "cpu"}, {"models", rows}});
        return;
    }
    output.printf(
        "\nEMLoC: the largest compression ratio whose three stages fit (not needed where LoRA on the whole "
        "model fits). Refinement (on by default) holds the original model; a run skips it when it does not "
        "fit.\n");
    output.printf("* At 0.30-0.39, %s. Below 0.30, %s.\n", core::ratioCaveat(0.35).c_str(),
                  core::ratioCaveat(0.2).c_str());
    output.printf("A model not listed: emloc plan --config its config.json.\n");
}

void runPlan(CommandOutput &output, CliContext &context, PlanArguments &args, core::Feedback &feedback)
{
    core::PipelineConfig &run = args.run;
    run.device = args.deviceKind.empty() ? context.device : args.deviceKind;
    run.train.gradientCheckpointing = !args.noCheckpointing;
    run.budgetBytes = args.budgetGb > 0 ? gigabytes(args.budgetGb) : 0;
    if (args.ratio != 0)
        run.emulator.ratio = args.ratio;
    if (args.catalog == "all") {
        if (run.budgetBytes <= 0)
            throw core::Error("--catalog all lists what fits in a budget: give it with --budget-gb (for "
                              "example --budget-gb 24 --for cuda for a 24 GB card).");
        printCatalogFits(output, context, args);
        return;
    }
    // The model's shape: from its files, from a config.json alone, or from the catalog.
    std::optional<core::ModelFiles> files;
    std::optional<core::VisionLanguageFiles>
        vision; // its tower and projector planned beside the language model
    core::ModelConfig modelConfig;
    if (!args.catalog.empty())
        modelConfig = core::catalogModel(args.catalog).config;
    else if (!args.configFile.empty())
        modelConfig = core::loadModelConfig(args.configFile);
    else {
        core::StageModel model = core::openStageModel(args.model);
        vision = std::move(model.vision);
        files = std::move(model.files);
        modelConfig = files->config;
        run.model = args.model; // a vision-language model's tower is planned with it
    }
    // The decision `emloc run` makes for this budget (and the Studio's preview shows), with values of the
    // size --dtype asks for.
    const core::PlanSettings settings = catalogPlanSettings(args);
    const core::RatioChoice choice = core::choosePipelineRatio(run, modelConfig, settings);
    nlohmann::json measured;
    if (!args.data.empty()) {
        if (!files)
            throw core::Error("--data measures stage 1 on the model's own tokenizer: give the model's folder "
                              "or .gguf, not --config or --catalog.");
        // Stage 1 once more from the real calibration samples: their count and padded length.
        core::EmulatorOptions options = run.emulator;
        options.calibration.dataPath = args.data;
        options.calibration.maxLength = run.maxLength;
        const core::CalibrationSet set =
            vision ? core::loadCalibrationSet(*vision, options.calibration, nullptr, &feedback)
                   : core::loadCalibrationSet(*files, options.calibration, &feedback);
        core::PlanSettings construction = core::constructionPlanSettings(options, set);
        if (vision)
            core::addVisionToPlan(construction, *vision, options.visionRatio);
        construction = core::processShare(construction, args.processes, run.train.gradAccum);
        const core::MemoryPlan plan =
            core::planMemory(core::plannableConfig(files->config), construction, choice.ratio);
        measured = {{"calibration_samples", set.sequences.size()},
                    {"construction_bytes", plan.construction.totalBytes()}};
    }
    if (context.json) {
        nlohmann::json out = planJson(choice.plan);
        out["fits"] = choice.fits;
        if (run.budgetBytes > 0)
            out["budget_bytes"] = run.budgetBytes;
        if (!choice.fits)
            out["advice"] = choice.advice;
        out["processes"] = args.processes;
        if (!measured.is_null())
            out["measured_calibration"] = measured;
        output.setJson(out);
    } else {
        if (args.processes > 1)
            output.printf(
                "Each of %d processes (emloc run --nproc/--gpus; stages 1 and 2 shared, the rest on "
                "rank 0):\n",
                args.processes);
        printPlanTable(output, choice.plan);
        if (!measured.is_null())
            output.printf("Stage 1 from the %lld calibration samples of %s: %s\n",
                          static_cast<long long>(measured["calibration_samples"].get<int64_t>()),
                          args.data.c_str(),
                          core::formatBytes(measured["construction_bytes"].get<int64_t>()).c_str());
        if (run.budgetBytes > 0 && choice.fits)
            output.printf("Chosen ratio %.2f: the largest that fits in %s\n", choice.ratio,
                          core::formatBytes(run.budgetBytes).c_str());
    }
    if (!choice.fits)
        throw core::Error(choice.advice);
}

void runBuild(CommandOutput &output, CliContext &context, BuildArguments &args, core::Feedback &feedback)
{
    if (!args.metricsFile.empty())
        if (auto *terminal = dynamic_cast<TerminalFeedback *>(&feedback))
            terminal->openMetricsFile(args.metricsFile);
    core::EmulatorOptions options = args.options;
    options.outputPath = args.out;
    options.device = context.device;
    for (const auto &text : args.overrides)
        options.overrides.push_back(core::parseModuleRule(text));
    core::rankForRatio(options.ratio, 1, 1);
    // A vision-language model: its language model's emulator, calibrated on the records' images too.
    const core::StageModel model = core::openStageModel(args.model);
    const std::optional<core::VisionLanguageFiles> &vision = model.vision;
    const core::ModelFiles &files = model.files;
    if (options.visionRatio > 0 && !vision)
        throw core::Error("--vision-ratio compresses a vision-language model's vision tower; '" + args.model +
                          "' is a text model");
    // A vision-language model's samples get their image rows in the build (which may compress the tower).
    const core::CalibrationSet calibration =
        vision ? core::loadCalibrationSet(*vision, options.calibration, nullptr, &feedback)
               : core::loadCalibrationSet(files, options.calibration, &feedback);
    if (args.budgetGb > 0) {
        // The decision `emloc run` makes for the same budget: a run with this stage's settings and the
        // default training settings (batch, LoRA rank, checkpointing).
        core::PipelineConfig run;
        run.device = context.device;
        run.maxLength = options.calibration.maxLength;
        run.emulator = options;
        run.budgetBytes = gigabytes(args.budgetGb);
        run.model = args.model;
        const core::RatioChoice choice = core::choosePipelineRatio(run, files.config);
        if (!choice.fits)
            throw core::Error(choice.advice);
        options.ratio = choice.ratio;
        feedback.log(core::LogLevel::Info, "ratio " + std::to_string(choice.ratio).substr(0, 4) +
                                               ": the largest whose stages fit in " +
                                               core::formatBytes(gigabytes(args.budgetGb)) +
                                               " with the default training settings");
    }
    // Stage 1's own prediction, from the calibration samples actually drawn.
    core::PlanSettings settings = core::constructionPlanSettings(options, calibration);
    if (vision)
        core::addVisionToPlan(settings, *vision, options.visionRatio);
    const core::MemoryPlan plan =
        core::planMemory(core::plannableConfig(files.config), settings, options.ratio);
    const core::EmulatorBuildResult result =
        vision ? core::buildEmulator(*vision, calibration, options, feedback)
               : core::buildEmulator(files, calibration, options, feedback);
    const int64_t peakBytes = result.peakMemoryBytes;
    const int64_t imagePeakBytes = result.imageEncodingPeakBytes;
    const nlohmann::json &calibrationJson = result.manifest["calibration"];
    const int64_t images = calibrationJson.value("images", int64_t(0));
    const int64_t imageTokens = calibrationJson.value("image_tokens", int64_t(0));

    double retained = 0;
    int64_t factorized = 0;
    for (const auto &[name, record] : result.manifest["modules"].items())
        if (record["kind"] == "low_rank") {
            retained += record["retained_energy"].get<double>();
            ++factorized;
        }
    const double meanRetained = factorized > 0 ? retained / double(factorized) : 1.0;
    // The tower's settings and totals (its modules are in emulator.json).
    nlohmann::json towerSummary = result.manifest.value("vision_tower", nlohmann::json());
    if (towerSummary.is_object())
        towerSummary.erase("modules");
    if (context.json) {
        output.setJson({{"output", result.outputPath},
                        {"ratio", options.ratio},
                        {"method", result.manifest["method"]},
                        {"rank_allocation", result.manifest["rank_allocation"]},
                        {"parameters",
                         {{"original", result.originalParameters}, {"emulator", result.emulatorParameters}}},
                        {"factorized_modules", factorized},
                        {"vision_tower", towerSummary},
                        {"mean_retained_energy", meanRetained},
                        {"calibration_samples", calibration.sequences.size()},
                        {"calibration_tokens", result.calibrationTokens},
                        {"calibration_images", images},
                        {"calibration_image_tokens", imageTokens},
                        {"seconds", result.seconds},
                        {"peak_memory_bytes", peakBytes},
                        {"image_encoding_peak_bytes", imagePeakBytes},
                        {"predicted_peak_bytes", plan.construction.totalBytes()},
                        {"predicted_inference_bytes", plan.inference.totalBytes()}});
        return;
    }
    if (context.quiet)
        return;
    output.printf("Emulator      %s\n", result.outputPath.c_str());
    output.printf("Method        %s, ratio %.2f, %s ranks\n",
                  result.manifest["method"].get<std::string>().c_str(), options.ratio,
                  result.manifest["rank_allocation"].get<std::string>().c_str());
    output.printf("Parameters    %.2f M of %.2f M (%.1f %%), %lld projections factorized, mean retained "
                  "energy %.4f\n",
                  double(result.emulatorParameters) / 1e6, double(result.originalParameters) / 1e6,
                  100.0 * double(result.emulatorParameters) /
                      double(std::max<int64_t>(1, result.originalParameters)),
                  static_cast<long long>(factorized), meanRetained);
    output.printf("Calibration   %zu samples, %lld tokens", calibration.sequences.size(),
                  static_cast<long long>(result.calibrationTokens));
    if (vision)
        output.printf(", %lld images (%lld of the tokens)", static_cast<long long>(images),
                      static_cast<long long>(imageTokens));
    output.printf("\n");
    if (vision) {
        const nlohmann::json &tower = result.manifest["vision_tower"];
        if (tower.is_object())
            output.printf("Vision tower  ratio %.2f: %.2f M of its linears' %.2f M parameters kept, %lld "
                          "calibration tiles\n",
                          tower["ratio"].get<double>(), double(tower["parameters"].get<int64_t>()) / 1e6,
                          double(tower["linear_parameters"].get<int64_t>()) / 1e6,
                          static_cast<long long>(tower["calibration_tiles"].get<int64_t>()));
        else
            output.printf("Vision tower  kept dense (--vision-ratio compresses it)\n");
    }
    output.printf("Time          %.1f s\n", result.seconds);
    output.printf("Peak memory   %s measured (planner: %s; inference of the full model: %s)\n",
                  core::formatBytes(peakBytes).c_str(),
                  core::formatBytes(plan.construction.totalBytes()).c_str(),
                  core::formatBytes(plan.inference.totalBytes()).c_str());
}

void addCalibrationOptions(CLI::App *command, core::CalibrationOptions &calibration)
{
    command
        ->add_option("--data", calibration.dataPath,
                     "Training data (.jsonl, .json, .csv, .tsv, .txt) to calibrate on")
        ->required();
    command->add_option("--calibration-samples", calibration.samples, "Records to calibrate on")
        ->check(CLI::PositiveNumber)
        ->default_val(64);
    command
        ->add_option("--max-length", calibration.maxLength, "Tokens per sample (longer ones are truncated)")
        ->check(CLI::PositiveNumber)
        ->default_val(512);
    command->add_option("--seed", calibration.seed, "Seed of the sample choice")->default_val(0);
    command->add_option("--format", calibration.format, "Record format")
        ->check(namedChoice(core::kRecordFormatChoices))
        ->default_val("auto");
    command->add_option("--template", calibration.chatTemplate, "Chat template (as for training)")
        ->check(namedChoice(core::kChatTemplateChoices, "auto"))
        ->default_val("auto");
    command->add_option("--system", calibration.systemPrompt,
                        "System prompt for conversations that have none");
}

} // namespace

void registerEmulatorCommands(CLI::App &app, CliContext &context)
{
    auto plan = std::make_shared<PlanArguments>();
    auto *planCommand = app.add_subcommand(
        "plan", "Predict the memory of inference, the three EMLoC stages and full-model LoRA; choose the "
                "compression ratio for a budget");
    auto *modelOption =
        planCommand->add_option("MODEL", plan->model, "A Hugging Face folder or a .gguf file");
    auto *configOption = planCommand->add_option(
        "--config", plan->configFile, "A model's config.json alone: plan before downloading its weights");
    auto *catalogOption =
        planCommand->add_option("--catalog", plan->catalog,
                                "A model of the built-in catalog by name (e.g. llama-3.1-8b, qwen2.5-7b), or "
                                "'all': which models fit the --budget-gb, for inference, LoRA and EMLoC");
    modelOption->excludes(configOption)->excludes(catalogOption);
    configOption->excludes(catalogOption);
    planCommand->add_option("--for", plan->deviceKind, "Plan for this device (default: the --device)")
        ->check(CLI::IsMember({"cpu", "cuda"}));
    planCommand
        ->add_option(
            "--dtype", plan->dtype,
            "Weights and activations: bf16 / fp16 (2 bytes), fp32, or auto (bf16 on CUDA, fp32 on CPU)")
        ->check(floatTypeChoice({"auto", "bf16", "fp16", "fp32"}))
        ->capture_default_str();
    planCommand->add_option("--data", plan->data,
                            "Training data: also predicts stage 1 from its real calibration samples");
    auto *budget = planCommand->add_option("--budget-gb", plan->budgetGb, "Memory budget in GiB")
                       ->check(CLI::PositiveNumber);
    planCommand->add_option("--ratio", plan->ratio, "Compression ratio to show (default: the run's, 0.4)")
        ->excludes(budget);
    core::PipelineConfig &run = plan->run;
    planCommand->add_option("--batch", run.train.batchSize, "Fine-tuning batch size")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    planCommand->add_option("--max-length", run.maxLength, "Tokens per example, in training and calibration")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    planCommand->add_option("--lora-rank", run.train.lora.rank, "LoRA rank")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    planCommand
        ->add_option("--vision-ratio", run.emulator.visionRatio,
                     "A vision-language model: plan its vision tower compressed at this ratio (0: dense)")
        ->check(CLI::Range(core::run_defaults::kVisionRatio.low, core::run_defaults::kVisionRatio.high))
        ->capture_default_str();
    planCommand->add_flag("--no-checkpointing", plan->noCheckpointing, "Plan without gradient checkpointing");
    planCommand->add_option("--grad-accum", run.train.gradAccum, "Micro-batches per optimizer step")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    planCommand
        ->add_option("--processes", plan->processes,
                     "Plan each of N data-parallel processes (emloc run --nproc/--gpus): its share of the "
                     "calibration samples, and of each micro-batch when there are fewer than N per step")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    planCommand
        ->add_option("--refine-layers", run.refine.layers, "Decoder layers refined on the original (0: none)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    planCommand->add_option("--calibration-samples", run.emulator.calibration.samples, "Calibration samples")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    planCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    planCommand->callback([&context, plan, modelOption, configOption, catalogOption] {
        if (modelOption->count() + configOption->count() + catalogOption->count() == 0)
            throw CLI::RequiredError("MODEL, --config or --catalog");
        runCommand(context, [&context, plan](core::Feedback &feedback, CommandOutput &output) {
            runPlan(output, context, *plan, feedback);
        });
    });

    auto build = std::make_shared<BuildArguments>();
    auto *buildCommand = app.add_subcommand(
        "build-emulator", "Stage 1: calibrate on your data and compress every decoder projection with "
                          "activation-aware SVD, streaming one layer at a time");
    buildCommand->add_option("MODEL", build->model, "A Hugging Face folder or a .gguf file")->required();
    addCalibrationOptions(buildCommand, build->options.calibration);
    buildCommand->add_option("--out", build->out, "The emulator folder to write")->required();
    auto *ratio =
        buildCommand
            ->add_option("--ratio", build->options.ratio, "Fraction of each projection's parameters kept")
            ->default_val(0.4);
    buildCommand->add_option("--budget-gb", build->budgetGb, "Choose the ratio for this memory budget (GiB)")
        ->check(CLI::PositiveNumber)
        ->excludes(ratio);
    buildCommand
        ->add_option(
            "--vision-ratio", build->options.visionRatio,
            "A vision-language model: also compress the vision tower's linears, keeping this fraction "
            "of each one's parameters (0: the tower stays dense; the reference configuration uses 0.4)")
        ->check(CLI::Range(core::run_defaults::kVisionRatio.low, core::run_defaults::kVisionRatio.high))
        ->default_val(core::run_defaults::kVisionRatio.value);
    buildCommand->add_flag("--plain-svd", build->options.plainSvd,
                           "Ablation: plain truncated SVD, no whitening");
    buildCommand->add_option(
        "--override", build->overrides,
        "PATTERN=RATIO, PATTERN=dense or PATTERN=rank:K (glob over module names; repeatable, "
        "later wins)");
    buildCommand->add_flag("--allocate-ranks", build->options.allocateRanks,
                           "Refinement: ranks from the whitened spectra under the same parameter count");
    buildCommand->add_flag_function(
        "--compress-last-down", [build](int64_t) { build->options.keepLastDownProjDense = false; },
        "Also compress the last block's down_proj (the paper keeps it dense)");
    buildCommand->add_flag("--gram-fp64", build->options.gramFloat64, "Grams and factorizations in float64");
    buildCommand->add_option("--dtype", build->options.computeDtype, "Calibration forward dtype")
        ->check(floatTypeChoice({"fp32", "fp64", "bf16", "fp16", "auto"}))
        ->default_val("fp32");
    buildCommand->add_option("--output-dtype", build->options.outputDtype, "Stored dtype of the emulator")
        ->check(floatTypeChoice({"auto", "fp32", "bf16", "fp16", "fp64"}))
        ->default_val("auto");
    buildCommand->add_option("--chunk", build->options.chunkSize, "Calibration sequences per forward")
        ->check(CLI::PositiveNumber)
        ->default_val(4);
    buildCommand->add_flag("--overwrite", build->options.overwrite, "Replace an existing output folder");
    buildCommand->add_option("--metrics", build->metricsFile,
                             "Append per-layer metric samples to this JSONL file");
    buildCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    buildCommand->callback([&context, build] {
        runCommand(context, [&context, build](core::Feedback &feedback, CommandOutput &output) {
            runBuild(output, context, *build, feedback);
        });
    });

    auto evaluate = std::make_shared<std::pair<std::string, core::CalibrationOptions>>();
    auto batch = std::make_shared<int64_t>(4);
    auto *evaluateCommand = app.add_subcommand(
        "evaluate-loss", "Run the whole model (all layers resident) over the calibration samples of a data "
                         "file: mean next-token loss, time and peak memory");
    evaluateCommand
        ->add_option("MODEL", evaluate->first, "A Hugging Face folder, an emulator or a .gguf file")
        ->required();
    addCalibrationOptions(evaluateCommand, evaluate->second);
    evaluateCommand->add_option("--batch", *batch, "Sequences per forward")
        ->check(CLI::PositiveNumber)
        ->default_val(4);
    evaluateCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    evaluateCommand->callback([&context, evaluate, batch] {
        runCommand(context, [&](core::Feedback &feedback, CommandOutput &output) {
            const core::ModelFiles files = core::openModel(evaluate->first);
            const core::CalibrationSet set = core::loadCalibrationSet(files, evaluate->second, &feedback);
            const core::LossEvaluation result =
                core::evaluateLoss(files, set, context.device, *batch, feedback);
            if (context.json) {
                output.setJson({{"loss", result.loss},
                                {"perplexity", std::exp(result.loss)},
                                {"tokens", result.tokens},
                                {"sequences", result.sequences},
                                {"seconds", result.seconds},
                                {"peak_memory_bytes", result.peakMemoryBytes}});
                return;
            }
            output.printf("Loss          %.4f (perplexity %.2f) over %lld tokens of %lld samples\n",
                          result.loss, std::exp(result.loss), static_cast<long long>(result.tokens),
                          static_cast<long long>(result.sequences));
            output.printf("Time          %.1f s\nPeak memory   %s\n", result.seconds,
                          core::formatBytes(result.peakMemoryBytes).c_str());
        });
    });
}

} // namespace emloc::cli
