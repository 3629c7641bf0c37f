// `emloc correct`, `emloc evaluate` and `emloc export`: stage 3 of EMLoC (the LoRA correction), its
// evaluation against the original model, and the exports for PEFT, transformers and llama.cpp.
#include "cli_context.h"
#include "evaluation_table.h"
#include "option_choices.h"

#include "emloc/api/device.h"
#include "emloc/io/atomic_file.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/evaluate.h"
#include "emloc/stages/export.h"
#include "emloc/util/memory.h"

#include <cstdio>

namespace emloc::cli {

namespace {

void printCorrectionTable(CommandOutput &output, const core::CorrectionReport &report,
                          const std::string &outDir)
{
    output.printf("%-40s %4s %7s %10s %10s %10s %10s %7s\n", "module", "r", "scale", "|sBA|", "|W-W_E|",
                  "|C| raw", "|C|", "clamped");
    for (const auto &m : report.modules)
        output.printf("%-40s %4lld %7.3f %10.4g %10.4g %10.4g %10.4g %7lld\n", m.module.c_str(),
                      static_cast<long long>(m.rank), m.scale, m.updateNorm, m.emulatorGapNorm,
                      m.unclampedNorm, m.correctionNorm, static_cast<long long>(m.clampedComponents));
    output.printf("Corrected %zu modules in %.2f s (clamp %s, %lld components clamped); wrote %s\n",
                  report.modules.size(), report.seconds,
                  report.clampLimit > 0 ? ("L = " + std::to_string(report.clampLimit)).c_str() : "off",
                  static_cast<long long>(report.clampedComponents()), outDir.c_str());
}

} // namespace

void registerStage3Commands(CLI::App &app, CliContext &context)
{
    // correct
    struct CorrectArgs
    {
        core::CorrectionOptions options;
        bool noClamp = false;
    };
    auto correctArgs = std::make_shared<CorrectArgs>();
    auto *correct = app.add_subcommand(
        "correct",
        "Correct a LoRA trained on the emulator for the original model (EMLoC stage 3); writes a PEFT "
        "adapter with scale 1 and correction_report.json");
    correct->add_option("--model", correctArgs->options.modelPath, "The ORIGINAL model (HF folder or .gguf)")
        ->required();
    correct->add_option("--emulator", correctArgs->options.emulatorPath, "The emulator folder (stage 1)")
        ->required();
    correct
        ->add_option("--adapter", correctArgs->options.adapterPath,
                     "The PEFT adapter trained on it (stage 2)")
        ->required();
    correct->add_option("--out", correctArgs->options.outDir, "A new folder for the corrected adapter")
        ->required();
    auto *clamp = correct
                      ->add_option("--clamp", correctArgs->options.clampLimit,
                                   "Clamp limit L: a correction component larger than L times the learned "
                                   "update (mean magnitudes) is scaled down to it")
                      ->check(CLI::PositiveNumber);
    correct->add_flag("--no-clamp", correctArgs->noClamp, "Apply the full correction")->excludes(clamp);
    correct->add_flag("--overwrite", correctArgs->options.overwrite, "Replace an existing output folder");
    correct->callback([&context, correctArgs] {
        runCommand(context, [&context, correctArgs](core::Feedback &feedback, CommandOutput &output) {
            core::CorrectionOptions options = correctArgs->options;
            if (correctArgs->noClamp)
                options.clampLimit = 0;
            options.device = context.device;
            core::MemoryMeter meter(core::parseDevice(context.device).toString());
            meter.reset();
            core::CorrectionReport report = core::runCorrection(options, &feedback);
            const int64_t peak = meter.read().peakBytes;
            if (context.json) {
                nlohmann::json json = report.toJson();
                json["output"] = options.outDir;
                json["peak_memory_bytes"] = peak;
                output.setJson(json);
            } else if (!context.quiet) {
                printCorrectionTable(output, report, options.outDir);
                output.printf("Peak memory %s\n", core::formatBytes(peak).c_str());
            }
        });
    });

    // evaluate
    struct EvaluateArgs
    {
        core::EvaluationOptions options;
        std::string metric = "exact";
        bool noGeneration = false;
        bool skipOriginal = false;
        std::string output;
    };
    auto evaluateArgs = std::make_shared<EvaluateArgs>();
    auto *evaluate = app.add_subcommand(
        "evaluate",
        "Held-out loss, perplexity and generation match of the original model, the emulator + LoRA, "
        "the original + uncorrected LoRA and the original + corrected LoRA");
    auto &eo = evaluateArgs->options;
    evaluate->add_option("--model", eo.modelPath, "The ORIGINAL model (HF folder or .gguf)")->required();
    evaluate->add_option("--emulator", eo.emulatorPath, "The emulator folder (evaluated with --adapter)");
    evaluate->add_option("--adapter", eo.adapterPath, "The LoRA trained on the emulator (uncorrected)");
    evaluate->add_option("--corrected", eo.correctedPath, "The corrected adapter");
    evaluate->add_option("--data", eo.dataPath, "Held-out dataset (.jsonl, .json, .csv, .tsv or .txt)")
        ->required();
    evaluate->add_option("--max-new-tokens", eo.maxNewTokens, "Greedy generation length")
        ->check(CLI::PositiveNumber);
    evaluate->add_option("--metric", evaluateArgs->metric, "exact (after trimming) or contains (free text)")
        ->check(namedChoice(core::kMatchMetricChoices));
    evaluate->add_option("--max-examples", eo.maxExamples, "Evaluate the first N records (0: all)")
        ->check(CLI::NonNegativeNumber);
    evaluate->add_option("--max-length", eo.maxLength, "Tokens per example after truncation")
        ->check(CLI::PositiveNumber);
    evaluate->add_option("--chat-template", eo.chatTemplate,
                         "auto, jinja, chatml, llama3, llama2, alpaca, plain");
    evaluate->add_option("--batch-size", eo.batchSize, "Examples per forward pass for the loss")
        ->check(CLI::PositiveNumber);
    evaluate
        ->add_option("--generation-batch", eo.generationBatch,
                     "Prompts generated together (fewer when their KV cache would pass a quarter of the "
                     "weights)")
        ->check(CLI::PositiveNumber);
    evaluate->add_option("--dtype", eo.dtype, "Compute dtype: auto, fp32, bf16, fp16");
    evaluate->add_flag("--no-generation", evaluateArgs->noGeneration, "Loss and perplexity only");
    evaluate->add_flag("--skip-original", evaluateArgs->skipOriginal,
                       "Leave out the original model (when its numbers are already known)");
    evaluate->add_option("--output", evaluateArgs->output, "Also write the result as JSON to this file");
    evaluate->add_option("--keep-samples", eo.keepSamples, "Answers kept per model for reading (-1: all)")
        ->default_val(3)
        ->check(CLI::Range(int64_t(-1), int64_t(1) << 40));
    evaluate->callback([&context, evaluateArgs] {
        runCommand(context, [&context, evaluateArgs](core::Feedback &feedback, CommandOutput &output) {
            core::EvaluationOptions options = evaluateArgs->options;
            options.metric = core::parseMatchMetric(evaluateArgs->metric);
            options.generation = !evaluateArgs->noGeneration;
            options.includeOriginal = !evaluateArgs->skipOriginal;
            options.device = context.device;
            core::EvaluationResult result = core::runEvaluation(options, &feedback);
            if (!evaluateArgs->output.empty())
                core::writeFileAtomically(evaluateArgs->output, result.toJson().dump(2) + "\n");
            if (context.json)
                output.setJson(result.toJson());
            else if (!context.quiet)
                printEvaluationTable(output, result, true);
        });
    });

    // export
    struct ExportArgs
    {
        core::ExportOptions options;
        std::string format;
    };
    auto exportArgs = std::make_shared<ExportArgs>();
    auto *exportCommand = app.add_subcommand(
        "export",
        "Export a (corrected) adapter: a PEFT adapter, a merged Hugging Face model, a llama.cpp GGUF "
        "LoRA adapter, a merged GGUF model or an Ollama folder (Modelfile); or a vision-language model's "
        "vision tower as llama.cpp's mmproj GGUF (gguf-mmproj, no adapter); each is read back and checked");
    exportCommand->add_option("--model", exportArgs->options.modelPath, "The ORIGINAL model")->required();
    exportCommand->add_option("--adapter", exportArgs->options.adapterPath,
                              "The adapter (normally corrected); every format but gguf-mmproj");
    exportCommand
        ->add_option("--format", exportArgs->format,
                     "peft, merged, gguf-lora, gguf-merged, gguf-mmproj or ollama")
        ->required()
        ->check(namedChoice(core::kExportFormatChoices));
    exportCommand
        ->add_option("--out", exportArgs->options.outPath, "Folder (peft, merged, ollama) or .gguf file")
        ->required();
    exportCommand->add_option("--chat-template", exportArgs->options.chatTemplate,
                              "ollama: the template the adapter was trained with (auto: the model's)");
    exportCommand->add_option("--system", exportArgs->options.systemPrompt,
                              "ollama: the system prompt it was trained with (SYSTEM in the Modelfile)");
    exportCommand->add_option("--dtype", exportArgs->options.dtype,
                              "auto; merged: float32/float16/bfloat16; GGUF: F32/F16/BF16/Q8_0");
    exportCommand->add_flag("--overwrite", exportArgs->options.overwrite, "Replace an existing output");
    exportCommand->callback([&context, exportArgs] {
        runCommand(context, [&context, exportArgs](core::Feedback &feedback, CommandOutput &output) {
            core::ExportOptions options = exportArgs->options;
            options.format = core::parseExportFormat(exportArgs->format);
            core::ExportResult result = core::runExport(options, &feedback);
            if (context.json)
                output.setJson(result.toJson());
            else if (!context.quiet)
                output.printf(
                    "Exported %s to %s (%.1f MB, %lld tensors verified, max error %.3g) in %.1f s\n",
                    result.format.c_str(), result.path.c_str(), result.bytes / 1e6,
                    static_cast<long long>(result.tensorsChecked), result.maxVerifyError, result.seconds);
        });
    });
}

} // namespace emloc::cli
