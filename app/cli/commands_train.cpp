// `emloc train`: LoRA fine-tuning of a model or an emulator (stage 2), or of a layer-drop emulator
// (the Offsite-tuning baseline).
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/layer_drop.h"
#include "emloc/stages/lora_training.h"
#include "emloc/stages/pipeline.h"
#include "emloc/stages/train_loop.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"

#include <cstdio>
#include <memory>
#include <optional>

namespace emloc::cli {

namespace {
// Defaults are core's (a default PipelineConfig, TrainOptions): the same as a configuration file's.
struct TrainCommand
{
    std::string model, data, out, schedule = "cosine", targets;
    std::string format = core::PipelineConfig().format, chatTemplate = core::PipelineConfig().chatTemplate;
    std::string dtype = "auto", system;
    core::TrainOptions options;
    int64_t maxLength = core::PipelineConfig().maxLength;
    double validationFraction = core::PipelineConfig().validationFraction;
    int64_t layerDrop = 0;
    bool noCheckpointing = false, trainOnAll = false;
};

void printSummary(CommandOutput &output, const core::TrainResult &result, const std::string &modelText)
{
    output.printf("Trained %s: %lld of %lld steps%s in %.1f s (%.2f s/step), peak memory %s\n",
                  modelText.c_str(), (long long)result.steps, (long long)result.totalSteps,
                  result.stoppedEarly ? " (early stop)" : "", result.seconds, result.secondsPerStep,
                  core::formatBytes(result.peakMemoryBytes).c_str());
    output.printf("Train loss %.4f -> %.4f", result.firstTrainLoss, result.finalTrainLoss);
    if (result.finalValidationLoss >= 0)
        output.printf(", validation loss %.4f (best %.4f)", result.finalValidationLoss,
                      result.bestValidationLoss);
    output.printf("\nLoRA adapter (%lld trainable parameters): %s\n", (long long)result.trainableParameters,
                  result.adapterDir.c_str());
}

void runTrain(CommandOutput &output, CliContext &context, TrainCommand &command, core::Feedback &feedback)
{
    // A vision-language model, or the emulator of one's language model: trained on the records' images
    // too, through the model's own (frozen) vision tower.
    const bool visionFolder = core::isVisionLanguageFolder(command.model);
    const std::optional<core::VisionLanguageFiles> vision = visionFolder
                                                                ? core::openVisionLanguageModel(command.model)
                                                                : core::visionSourceOfEmulator(command.model);
    core::ModelFiles files = visionFolder ? vision->language : core::openModel(command.model);
    const core::ModelText text = core::openModelText(files, command.chatTemplate, &feedback);
    if (vision && !visionFolder) {
        const bool compressed =
            core::readEmulatorManifest(command.model).value("vision_tower", nlohmann::json()).is_object();
        feedback.log(core::LogLevel::Info,
                     "The emulator of " + vision->path + "'s language model: its images go through " +
                         (compressed ? "the emulator's compressed copy of that model's vision tower."
                                     : "that model's vision tower."));
    }

    core::LoraTrainingData data;
    data.path = command.data;
    data.prepare.read.format = core::parseRecordFormat(command.format);
    data.prepare.tokenize.maxLength = command.maxLength;
    data.prepare.tokenize.systemPrompt = command.system;
    data.prepare.tokenize.trainOnAllTokens = command.trainOnAll;
    data.validationFraction = command.validationFraction;

    auto &options = command.options;
    options.outputDir = command.out;
    options.schedule = core::parseLrSchedule(command.schedule);
    options.gradientCheckpointing = !command.noCheckpointing;
    options.baseModelName = files.path;
    if (!command.targets.empty())
        options.lora.targets = core::parseLoraTargets(command.targets);
    std::string modelText = files.path;
    if (command.layerDrop > 0) {
        auto kept = core::layerDropSelection(files.config.numLayers, {command.layerDrop, 1, 1});
        options.adapterLayerMap = core::layerDropMap(kept);
        feedback.log(core::LogLevel::Info, "Layer-drop emulator: " + std::to_string(kept.size()) + " of " +
                                               std::to_string(files.config.numLayers) + " layers.");
        modelText += " (layer-drop, " + std::to_string(kept.size()) + " layers)";
        files = core::layerDropModel(files, kept);
    }

    const core::TrainResult result = core::trainLora(files, text, data, options, context.device,
                                                     command.dtype, feedback, vision ? &*vision : nullptr);
    if (context.json)
        output.setJson(result.toJson());
    else if (!context.quiet)
        printSummary(output, result, modelText);
}
} // namespace

void registerTrainCommands(CLI::App &app, CliContext &context)
{
    auto command = std::make_shared<TrainCommand>();
    auto &options = command->options;
    auto *train = app.add_subcommand(
        "train",
        "Fine-tune LoRA on a model or an emulator (stage 2); writes a PEFT adapter, metrics.jsonl and "
        "a resumable checkpoint into --out");
    train->add_option("MODEL", command->model, "A Hugging Face folder, a .gguf file or an emulator folder")
        ->required();
    train->add_option("--data", command->data, "A .jsonl, .json, .csv, .tsv or .txt dataset")->required();
    train->add_option("--out", command->out, "Output folder (adapter, metrics.jsonl, checkpoint/)")
        ->required();
    auto *steps = train->add_option("--steps", options.steps, "Optimizer steps")->check(CLI::PositiveNumber);
    train->add_option("--epochs", options.epochs, "Passes over the data (when --steps is not given)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber)
        ->excludes(steps);
    train->add_option("--batch", options.batchSize, "Rows per micro-batch")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_option("--grad-accum", options.gradAccum, "Micro-batches per optimizer step")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_option("--lr", options.learningRate, "Peak learning rate")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_option("--schedule", command->schedule, "Learning-rate schedule after warmup")
        ->default_val("cosine")
        ->check(namedChoice(core::kLrScheduleChoices));
    train->add_option("--warmup-ratio", options.warmupRatio, "Fraction of the steps spent warming up")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.99));
    train->add_option("--weight-decay", options.adam.weightDecay, "AdamW decoupled weight decay")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    train->add_option("--max-grad-norm", options.maxGradNorm, "Gradient-norm clipping (0: off)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    train->add_option("--lora-rank", options.lora.rank, "LoRA rank r")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_option("--lora-alpha", options.lora.alpha, "LoRA alpha (scale alpha / r)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_option("--lora-dropout", options.lora.dropout, "Dropout on the LoRA input")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.95));
    train->add_flag("--rslora", options.lora.rsLora, "Rank-stabilised scale alpha / sqrt(r)");
    train->add_option("--targets", command->targets,
                      "Projections that get LoRA, comma-separated (default q,k,v,o,gate,up,down _proj)");
    train->add_option("--max-length", command->maxLength, "Tokens per example; longer ones are truncated")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    train->add_flag("--packing", options.packing, "Pack several examples per row of --max-length tokens");
    train->add_option("--format", command->format, "Record format")
        ->capture_default_str()
        ->check(namedChoice(core::kRecordFormatChoices));
    train
        ->add_option("--template", command->chatTemplate,
                     "Chat template: the model's own (auto) or a built-in one")
        ->capture_default_str()
        ->check(namedChoice(core::kChatTemplateChoices, "auto"));
    train->add_option("--system", command->system, "System prompt for conversations that have none");
    train->add_flag("--train-on-all", command->trainOnAll, "Train on every token, prompts included");
    train
        ->add_option("--validation-fraction", command->validationFraction, "Examples held out for validation")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.9));
    train->add_option("--eval-every", options.evalEvery, "Validation every N steps (0: at the end)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    train
        ->add_option("--early-stopping", options.earlyStoppingPatience,
                     "Stop after N validations without improvement (0: never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    train
        ->add_option("--checkpoint-every", options.checkpointEvery,
                     "Checkpoint every N steps (0: at cancel and end)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    train->add_flag("--resume", options.resume, "Continue from the checkpoint in --out");
    train->add_option("--seed", options.seed, "Seed of LoRA init, dropout and data order")
        ->capture_default_str();
    train->add_flag("--no-checkpointing", command->noCheckpointing,
                    "Keep every layer's activations (faster, more memory)");
    train
        ->add_option("--layer-drop", command->layerDrop,
                     "Offsite-tuning baseline: train on the first, the last and every K-th middle layer")
        ->check(CLI::Range(int64_t(2), int64_t(1000)));
    train
        ->add_option("--dtype", command->dtype, "Compute dtype: auto (fp32 on CPU, bf16 on CUDA), fp32, bf16")
        ->default_val("auto")
        ->check(floatTypeChoice({"auto", "fp32", "bf16", "fp16"}));
    train->add_flag("--json", context.json, "Machine-readable JSON summary on stdout");
    train->callback([&context, command] {
        runCommand(context, [&context, command](core::Feedback &feedback, CommandOutput &output) {
            runTrain(output, context, *command, feedback);
        });
    });
}

} // namespace emloc::cli
