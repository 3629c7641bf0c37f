// `emloc data inspect`: what a dataset becomes under a model's tokenizer and chat template, before any
// training: counts, skips and why, token lengths, truncation, the masked share, one rendered example.
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/vision_language_model.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <unistd.h>

namespace emloc::cli {

namespace {

struct InspectOptions
{
    std::string data;
    std::string model;
    std::string format = "auto";
    std::string chatTemplate = "auto";
    int64_t maxLength = 2048;
    std::string system;
    int64_t limit = 0;
    int bins = 10;
    bool trainOnAll = false;
};

void printHistogram(CommandOutput &output, const core::TokenLengthHistogram &histogram)
{
    if (histogram.counts.empty())
        return;
    const int64_t most = *std::max_element(histogram.counts.begin(), histogram.counts.end());
    constexpr int kBarWidth = 40;
    output.printf("\nToken lengths (before truncation)\n");
    for (size_t i = 0; i < histogram.counts.size(); ++i) {
        int filled = most > 0 ? static_cast<int>((kBarWidth * histogram.counts[i] + most - 1) / most) : 0;
        output.printf("  %7lld - %-7lld |%-*s| %lld\n", static_cast<long long>(histogram.edges[i]),
                      static_cast<long long>(histogram.edges[i + 1] - 1), kBarWidth,
                      std::string(filled, '#').c_str(), static_cast<long long>(histogram.counts[i]));
    }
}

void printStatistics(CommandOutput &output, const core::DatasetStatistics &stats)
{
    output.printf("Dataset    %s (%s, %s records)\n", stats.path.c_str(), stats.fileType.c_str(),
                  stats.format.c_str());
    output.printf("Template   %s\n", stats.templateName.c_str());
    output.printf("Records    %lld read, %lld used, %lld skipped\n", static_cast<long long>(stats.records),
                  static_cast<long long>(stats.used), static_cast<long long>(stats.skipped));
    for (const auto &reason : stats.skipReasons)
        output.printf("           skipped, %s: %lld\n", reason.first.c_str(),
                      static_cast<long long>(reason.second));
    for (const auto &detail : stats.skipDetails)
        output.printf("             %s\n", detail.c_str());
    output.printf("Tokens     %lld in used records, %lld trained (%.1f%% masked)\n",
                  static_cast<long long>(stats.tokens), static_cast<long long>(stats.trainedTokens),
                  100.0 * stats.maskedFraction);
    output.printf("Length     mean %.1f, min %lld, max %lld tokens\n", stats.meanLength,
                  static_cast<long long>(stats.minLength), static_cast<long long>(stats.maxLength));
    if (stats.maxLengthOption > 0)
        output.printf("Truncated  %lld records longer than %lld tokens\n",
                      static_cast<long long>(stats.truncated), static_cast<long long>(stats.maxLengthOption));
    if (stats.recordsWithImages > 0)
        output.printf(
            "Images     in %lld records; the used ones hold %lld images of %lld tiles in all (at most "
            "%lld images a record, %lld tiles an image)\n",
            static_cast<long long>(stats.recordsWithImages), static_cast<long long>(stats.images),
            static_cast<long long>(stats.imageTiles), static_cast<long long>(stats.maxImagesPerRecord),
            static_cast<long long>(stats.maxTilesPerImage));
    if (stats.notPrefixStable > 0)
        output.printf("Note       %lld records: the template rewrites earlier turns, only their final answer "
                      "is trained\n",
                      static_cast<long long>(stats.notPrefixStable));
    printHistogram(output, stats.histogram);
    if (stats.exampleSegments.empty())
        return;
    // On a terminal masked text is dim; elsewhere the trained parts are bracketed so they survive a pipe.
    const bool colour = ::isatty(STDOUT_FILENO) != 0;
    output.printf("\nExample (record %lld), %s\n", static_cast<long long>(stats.exampleRecord),
                  colour ? "masked text dim, trained text bright"
                         : "trained text between [train] and [/train]");
    std::string out;
    for (const auto &segment : stats.exampleSegments) {
        if (colour)
            out += (segment.trained ? "\x1b[1m" : "\x1b[2m") + segment.text + "\x1b[0m";
        else
            out += segment.trained ? "[train]" + segment.text + "[/train]" : segment.text;
    }
    output.printf("%s\n", out.c_str());
}

void inspect(CommandOutput &output, CliContext &context, const InspectOptions &options,
             core::Feedback &feedback)
{
    // A vision-language model's records with images are inspected as it would see them: each image's
    // placeholder expanded to its tiles' tokens.
    const core::StageModel model = core::openStageModel(options.model);
    const std::optional<core::VisionLanguageFiles> &vision = model.vision;
    const core::ModelFiles &files = model.files;
    const core::ModelText text = core::openModelText(files, options.chatTemplate, &feedback);

    core::PrepareOptions prepare;
    prepare.read.format = core::parseRecordFormat(options.format);
    prepare.read.sampleLimit = options.limit;
    prepare.tokenize.maxLength = options.maxLength;
    prepare.tokenize.systemPrompt = options.system;
    prepare.tokenize.trainOnAllTokens = options.trainOnAll;
    prepare.histogramBins = options.bins;
    prepare.keepExamples = false; // statistics only: a large file streams through in constant memory
    prepare.requireUsable = false;
    if (vision)
        prepare.images = core::datasetImageTokens(*vision, options.data);
    core::PreparedDataset prepared =
        core::prepareDataset(options.data, text.chatTemplate, *text.tokenizer, prepare, &feedback);
    if (context.json) {
        output.setJson(prepared.statistics.toJson());
        return;
    }
    printStatistics(output, prepared.statistics);
}

} // namespace

void registerDataCommands(CLI::App &app, CliContext &context)
{
    auto *data = app.add_subcommand("data", "Look at training datasets before training on them");
    data->require_subcommand(1);
    auto options = std::make_shared<InspectOptions>();
    auto *inspectCommand = data->add_subcommand(
        "inspect",
        "Render, tokenize and mask a dataset as training would; print counts, skips, token lengths and "
        "one example with its trained parts marked");
    inspectCommand->add_option("DATA", options->data, "A .jsonl, .json, .csv, .tsv or .txt dataset")
        ->required();
    inspectCommand
        ->add_option("--model", options->model, "A Hugging Face folder or a .gguf file (tokenizer, template)")
        ->required();
    inspectCommand->add_option("--format", options->format, "Record format")
        ->check(namedChoice(core::kRecordFormatChoices))
        ->default_val("auto");
    inspectCommand
        ->add_option("--template", options->chatTemplate,
                     "Chat template: the model's own (auto), or a built-in one")
        ->check(namedChoice(core::kChatTemplateChoices, "auto"))
        ->default_val("auto");
    inspectCommand
        ->add_option("--max-length", options->maxLength,
                     "Tokens per example; longer ones are truncated (0: none)")
        ->check(CLI::NonNegativeNumber)
        ->default_val(2048);
    inspectCommand->add_option("--system", options->system, "System prompt for conversations that have none");
    inspectCommand->add_option("--limit", options->limit, "Read at most this many records (0: all)")
        ->check(CLI::NonNegativeNumber)
        ->default_val(0);
    inspectCommand->add_option("--bins", options->bins, "Histogram bins")
        ->check(CLI::Range(1, 100))
        ->default_val(10);
    inspectCommand->add_flag("--train-on-all", options->trainOnAll, "Train on every token, prompts included");
    inspectCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    inspectCommand->callback([&context, options] {
        runCommand(context, [&context, options](core::Feedback &feedback, CommandOutput &output) {
            inspect(output, context, *options, feedback);
        });
    });
}

} // namespace emloc::cli
