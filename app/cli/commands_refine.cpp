// `emloc refine`: the corrected LoRA of the last decoder layers fine-tuned on the original model (a step
// beyond the paper, within the memory of inference; see emloc/stages/refine.h).
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/stages/lora_training.h"
#include "emloc/stages/pipeline.h"
#include "emloc/stages/refine.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/vision_language_model.h"

#include <cstdio>
#include <memory>
#include <optional>

namespace emloc::cli {

namespace {
struct RefineCommand
{
    core::RefineOptions options;
    std::string data, format = "auto", chatTemplate = "auto", system, schedule = "cosine";
    int64_t maxLength = 512;
    double validationFraction = 0;
};

void runRefine(CommandOutput &output, CliContext &context, RefineCommand &command, core::Feedback &feedback)
{
    // A vision-language model: its language model is refined, the records keep their images.
    const core::StageModel model = core::openStageModel(command.options.modelPath);
    const std::optional<core::VisionLanguageFiles> &vision = model.vision;
    const core::ModelFiles &files = model.files;
    const core::ModelText text = core::openModelText(files, command.chatTemplate, &feedback);
    core::LoraTrainingData data;
    data.path = command.data;
    data.prepare.read.format = core::parseRecordFormat(command.format);
    data.prepare.tokenize.maxLength = command.maxLength;
    data.prepare.tokenize.systemPrompt = command.system;
    data.validationFraction = command.validationFraction;
    if (vision)
        data.prepare.images = core::datasetImageTokens(*vision, command.data);
    const core::DatasetSplit split =
        core::prepareTrainingSplit(data, text, command.options.train.seed, feedback);

    core::RefineOptions options = command.options;
    options.device = context.device;
    options.train.schedule = core::parseLrSchedule(command.schedule);
    if (options.train.packing && options.train.packLength == 0)
        options.train.packLength = command.maxLength;
    const core::RefineResult result = core::refineAdapter(options, split.train, split.validation, feedback);
    if (context.json) {
        nlohmann::json json = result.toJson();
        json["output"] = options.outDir;
        output.setJson(json);
    } else if (!context.quiet) {
        const core::TrainResult &t = result.training;
        output.printf("Refined layers %lld-%lld: %lld steps in %.1f s (%.2f s/step), peak memory %s\n",
                      static_cast<long long>(result.layers.front()),
                      static_cast<long long>(result.layers.back()), static_cast<long long>(t.steps),
                      t.seconds, t.secondsPerStep, core::formatBytes(t.peakMemoryBytes).c_str());
        output.printf("Train loss %.4f -> %.4f; wrote %s\n", t.firstTrainLoss, t.finalTrainLoss,
                      options.outDir.c_str());
    }
}
} // namespace

void registerRefineCommands(CLI::App &app, CliContext &context)
{
    auto command = std::make_shared<RefineCommand>();
    core::RefineOptions &options = command->options;
    auto *refine = app.add_subcommand(
        "refine",
        "Fine-tune the corrected LoRA of the last decoder layers on the original model (beyond the paper; "
        "within the memory of inference)");
    refine->add_option("--model", options.modelPath, "The ORIGINAL model (HF folder or .gguf)")->required();
    refine->add_option("--adapter", options.adapterPath, "The corrected adapter ('emloc correct')")
        ->required();
    refine->add_option("--data", command->data, "The training data (.jsonl, .json, .csv, .tsv or .txt)")
        ->required();
    refine->add_option("--out", options.outDir, "A new folder for the refined adapter")->required();
    refine->add_option("--layers", options.layers, "The last N decoder layers are refined")
        ->default_val(core::pipelineRefineDefaults().layers)
        ->check(CLI::PositiveNumber);
    refine->add_option("--steps", options.train.steps, "Optimizer steps")
        ->default_val(core::pipelineRefineDefaults().train.steps)
        ->check(CLI::PositiveNumber);
    refine->add_option("--batch", options.train.batchSize, "Rows per micro-batch")
        ->default_val(2)
        ->check(CLI::PositiveNumber);
    refine->add_option("--grad-accum", options.train.gradAccum, "Micro-batches per optimizer step")
        ->default_val(4)
        ->check(CLI::PositiveNumber);
    refine
        ->add_option("--lr", options.train.learningRate,
                     "Peak learning rate: give stage 2's (emloc run does); 1e-4 and 20 steps did too little "
                     "in bench/README.md's study")
        ->default_val(1e-3)
        ->check(CLI::PositiveNumber);
    refine->add_option("--schedule", command->schedule, "Learning-rate schedule after warmup")
        ->default_val("cosine")
        ->check(namedChoice(core::kLrScheduleChoices));
    refine->add_option("--lora-dropout", options.train.lora.dropout, "Dropout on the LoRA input")
        ->default_val(0.05)
        ->check(CLI::Range(0.0, 0.95));
    refine->add_option("--max-length", command->maxLength, "Tokens per example; longer ones are truncated")
        ->default_val(512)
        ->check(CLI::PositiveNumber);
    refine->add_option("--format", command->format, "Record format")
        ->default_val("auto")
        ->check(namedChoice(core::kRecordFormatChoices));
    refine->add_option("--template", command->chatTemplate, "Chat template (as for training)")
        ->default_val("auto");
    refine->add_option("--system", command->system, "System prompt for conversations that have none");
    refine
        ->add_option("--validation-fraction", command->validationFraction, "Examples held out for validation")
        ->default_val(0.0)
        ->check(CLI::Range(0.0, 0.9));
    refine->add_option("--seed", options.train.seed, "Seed of dropout and data order")->default_val(42);
    refine->add_option("--dtype", options.dtype, "Compute dtype: auto, fp32, bf16")->default_val("auto");
    refine->add_flag("--overwrite", options.overwrite, "Replace an existing output folder");
    refine->add_flag("--json", context.json, "Machine-readable JSON summary on stdout");
    refine->callback([&context, command] {
        runCommand(context, [&context, command](core::Feedback &feedback, CommandOutput &output) {
            runRefine(output, context, *command, feedback);
        });
    });
}

} // namespace emloc::cli
