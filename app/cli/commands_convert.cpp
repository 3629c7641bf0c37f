// `emloc convert` (GGUF -> Hugging Face folder) and `emloc export-gguf` (any model -> GGUF for llama.cpp).
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/io/gguf_file.h"
#include "emloc/io/model_files.h"
#include "emloc/vision/vision_language_model.h"

#include <chrono>
#include <cstdio>

namespace emloc::cli {

namespace {

void report(CommandOutput &output, CliContext &context, const std::string &command, const std::string &input,
            const std::string &written, const std::string &dtype, double seconds)
{
    if (context.json) {
        output.setJson({{"command", command},
                        {"input", input},
                        {"output", written},
                        {"dtype", dtype},
                        {"seconds", seconds}});
    } else if (!context.quiet) {
        output.printf("Wrote %s (%s) in %.1f s\n", written.c_str(), dtype.c_str(), seconds);
    }
}

} // namespace

void registerConvertCommands(CLI::App &app, CliContext &context)
{
    struct ConvertOptions
    {
        std::string model, output, dtype = "float32";
    };
    auto convertOptions = std::make_shared<ConvertOptions>();
    auto *convert = app.add_subcommand(
        "convert",
        "Convert a GGUF model (dequantised) into a Hugging Face folder: config.json, model.safetensors, "
        "tokenizer.json, tokenizer_config.json, generation_config.json");
    convert->add_option("MODEL", convertOptions->model, "The .gguf file (or a Hugging Face folder)")
        ->required();
    convert->add_option("OUT_DIR", convertOptions->output, "A new folder for the converted model")
        ->required();
    convert->add_option("--dtype", convertOptions->dtype, "Weight type of the safetensors")
        ->check(floatTypeChoice({"float32", "float16", "bfloat16"}));
    convert->callback([&context, convertOptions] {
        runCommand(context, [&context, convertOptions](core::Feedback &feedback, CommandOutput &output) {
            const auto start = std::chrono::steady_clock::now();
            core::ModelFiles model = core::openModel(convertOptions->model);
            core::convertToHuggingFace(model, convertOptions->output, convertOptions->dtype, &feedback);
            report(output, context, "convert", convertOptions->model, convertOptions->output,
                   convertOptions->dtype, secondsSince(start));
        });
    });

    auto exportOptions = std::make_shared<ConvertOptions>();
    exportOptions->dtype = "F16";
    auto *exportGguf = app.add_subcommand(
        "export-gguf",
        "Write a model (Hugging Face folder or .gguf) as a GGUF file llama.cpp, Ollama and LM Studio load; "
        "of a vision-language model, its language model (its vision tower: export --format gguf-mmproj)");
    exportGguf->add_option("MODEL", exportOptions->model, "A Hugging Face folder or a .gguf file")
        ->required();
    exportGguf->add_option("OUT", exportOptions->output, "The .gguf file to write")->required();
    exportGguf->add_option("--dtype", exportOptions->dtype, "Weight type of the matrices (norms stay F32)")
        ->check(CLI::IsMember({"F32", "F16"}));
    exportGguf->callback([&context, exportOptions] {
        runCommand(context, [&context, exportOptions](core::Feedback &feedback, CommandOutput &output) {
            const auto start = std::chrono::steady_clock::now();
            const core::StageModel model = core::openStageModel(exportOptions->model);
            core::writeGgufModel(model.files, exportOptions->output, exportOptions->dtype, &feedback);
            if (model.vision && !context.quiet && !context.json)
                output.printf("Wrote the language model; its vision tower and projector for llama.cpp: emloc "
                              "export --model %s --format gguf-mmproj --out mmproj.gguf\n",
                              exportOptions->model.c_str());
            report(output, context, "export-gguf", exportOptions->model, exportOptions->output,
                   exportOptions->dtype, secondsSince(start));
        });
    });
}

} // namespace emloc::cli
