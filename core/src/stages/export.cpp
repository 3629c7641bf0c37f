#include "emloc/stages/export.h"
#include "emloc/io/dtype.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_lora.h"
#include "emloc/io/gguf_names.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/staging_folder.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/refine.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/internvl_mmproj.h"
#include "emloc/vision/vision_language_model.h"
#include "internvl_export.h"
#include "ollama_export.h"

#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>

namespace emloc::core {

namespace fs = std::filesystem;

namespace {

uint64_t sizeOnDisk(const std::string &path)
{
    std::error_code error;
    if (fs::is_regular_file(path, error))
        return fs::file_size(path, error);
    uint64_t total = 0;
    for (const auto &entry : fs::recursive_directory_iterator(path, error))
        if (entry.is_regular_file(error))
            total += entry.file_size(error);
    return total;
}

double maxDifference(const torch::Tensor &a, const torch::Tensor &b)
{
    if (!a.sizes().equals(b.sizes()))
        return std::numeric_limits<double>::infinity();
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void checkFileDestination(const std::string &path, bool overwrite)
{
    std::error_code error;
    if (fs::exists(path, error) && !overwrite)
        throw Error("The output file '" + path + "' already exists; choose another name or remove it first.");
    if (fs::is_directory(path, error))
        throw Error("The output path '" + path + "' is a folder; give a .gguf file name.");
}

std::string resolveMergedDtype(const std::string &dtype, const ModelConfig &config)
{
    if (dtype == "auto" || dtype.empty())
        return config.torchDtype.empty() ? "float32" : config.torchDtype;
    return dtype;
}

std::string resolveGgufDtype(const std::string &dtype, const ModelConfig &config, bool adapter)
{
    if (dtype == "auto" || dtype.empty())
        return adapter || config.torchDtype == "float32" || config.torchDtype.empty() ? "F32" : "F16";
    return dtype;
}

torch::ScalarType torchTypeOf(const std::string &dtype)
{
    const std::optional<torch::ScalarType> type = floatDtypeFromName(dtype);
    if (type == torch::kFloat32 || type == torch::kFloat16 || type == torch::kBFloat16)
        return *type;
    throw Error("Unknown dtype '" + dtype + "' for a merged model; use auto, float32, float16 or bfloat16.");
}

// The tolerance a stored type allows relative to a tensor's largest value.
double relativeTolerance(GgmlType type)
{
    switch (type) {
    case GgmlType::F32:
        return 1e-6;
    case GgmlType::F16:
        return 1e-3;
    case GgmlType::BF16:
        return 8e-3;
    default:
        return 2e-2;
    }
}

// `vision`: the adapter (under the language model's names) is written under the checkpoint's, targeting
// its language model alone, so peft loads it onto the vision-language model.
ExportResult exportPeft(const ExportOptions &options, PeftAdapter adapter, const VisionLanguageFiles *vision)
{
    adapter.config.baseModelNameOrPath = options.modelPath;
    PeftWriteOptions write;
    write.overwrite = options.overwrite;
    if (vision) {
        adapter = toInternVLAdapter(std::move(adapter), vision->config);
        write.targetModules = internVLTargetModules(adapter);
    }
    // The adapter's provenance travels with it: how it was corrected and, when it was, refined.
    for (const char *name : {kCorrectionReportFile, kRefineReportFile}) {
        const fs::path report = fs::path(options.adapterPath) / name;
        std::error_code error;
        if (fs::exists(report, error))
            write.extraFiles[name] = readTextFile(report.string());
    }
    writePeftAdapter(adapter, options.outPath, write); // reads back and compares before publishing
    ExportResult result;
    result.tensorsChecked = static_cast<int64_t>(2 * adapter.modules.size());
    return result;
}

ExportResult exportMerged(const ExportOptions &options, ModelFiles model, const PeftAdapter &adapter,
                          Feedback *feedback)
{
    const std::string dtype = resolveMergedDtype(options.dtype, model.config);
    const torch::ScalarType type = torchTypeOf(dtype);
    model.weights = mergeAdapterWeights(model.weights, adapter, torch::kFloat32);
    StagingFolder staging(options.outPath, options.overwrite);
    convertToHuggingFace(model, staging.path(), dtype, feedback);

    ExportResult result;
    ModelFiles written = openModel(staging.path());
    for (const auto &entry : adapter.modules) {
        const std::string name = entry.module + ".weight";
        const double difference =
            maxDifference(written.weights->tensor(name), model.weights->tensor(name).to(type));
        result.maxVerifyError = std::max(result.maxVerifyError, difference);
        ++result.tensorsChecked;
        if (difference != 0)
            throw Error("Verification of the merged model failed at '" + name +
                        "': it did not read back as written; nothing was saved to '" + options.outPath +
                        "'.");
    }
    staging.commit();
    return result;
}

ExportResult exportGgufLora(const ExportOptions &options, const ModelFiles &model, const PeftAdapter &adapter,
                            Feedback *feedback)
{
    checkFileDestination(options.outPath, options.overwrite);
    const GgmlType type = parseGgmlType(resolveGgufDtype(options.dtype, model.config, true));
    writeGgufLora(adapter, model.config, options.outPath, type, feedback); // verifies the file it wrote
    // And through the reader: the adapter llama.cpp sees, back in Hugging Face layout, is ours.
    ExportResult result;
    try {
        PeftAdapter back = readGgufLora(options.outPath, model.config);
        if (back.modules.size() != adapter.modules.size())
            throw Error("module count differs");
        for (const auto &entry : adapter.modules) {
            const PeftLoraModule *read = back.find(entry.module);
            if (!read)
                throw Error("module '" + entry.module + "' is missing");
            torch::Tensor want = entry.b.to(torch::kFloat64).matmul(entry.a.to(torch::kFloat64)) *
                                 adapter.scaleFor(entry.module);
            torch::Tensor got =
                read->b.to(torch::kFloat64).matmul(read->a.to(torch::kFloat64)) * back.scaleFor(entry.module);
            const double difference = maxDifference(got, want);
            result.maxVerifyError = std::max(result.maxVerifyError, difference);
            ++result.tensorsChecked;
            if (difference >
                relativeTolerance(type) * std::max(1e-12, want.abs().max().item<double>()) + 1e-12)
                throw Error("module '" + entry.module + "' reads back with a different update");
        }
    } catch (const Error &e) {
        std::error_code ignored;
        fs::remove(options.outPath, ignored);
        throw Error("Verification of the GGUF LoRA adapter '" + options.outPath + "' failed (" + e.what() +
                    "); the file was removed.");
    }
    return result;
}

ExportResult exportGgufMerged(const ExportOptions &options, ModelFiles model, const PeftAdapter &adapter,
                              Feedback *feedback)
{
    checkFileDestination(options.outPath, options.overwrite);
    const GgmlType type = parseGgmlType(resolveGgufDtype(options.dtype, model.config, false));
    model.weights = mergeAdapterWeights(model.weights, adapter, torch::kFloat32);
    writeGgufModel(model, options.outPath, ggmlTypeName(type), feedback);

    ExportResult result;
    try {
        GgufFile file(options.outPath);
        std::map<std::string, std::string> names;
        for (const auto &[hf, gguf] : ggufTensorNames(model.config))
            names[hf] = gguf;
        for (const auto &entry : adapter.modules) {
            const std::string hfName = entry.module + ".weight";
            torch::Tensor got = file.tensor(names.at(hfName));
            const int64_t heads = qkPermutationHeads(model.config, hfName);
            if (heads > 0)
                got = unpermuteQk(got, heads);
            torch::Tensor want = model.weights->tensor(hfName);
            const double difference = maxDifference(got, want);
            result.maxVerifyError = std::max(result.maxVerifyError, difference);
            ++result.tensorsChecked;
            if (difference > relativeTolerance(type) * want.abs().max().item<double>())
                throw Error("tensor '" + names.at(hfName) + "' does not hold the merged weight");
        }
    } catch (const Error &e) {
        std::error_code ignored;
        fs::remove(options.outPath, ignored);
        throw Error("Verification of the merged GGUF '" + options.outPath + "' failed (" + e.what() +
                    "); the file was removed.");
    }
    return result;
}

// The vision tower and projector as llama.cpp's mmproj GGUF, read back and compared tensor by tensor.
ExportResult exportGgufMmproj(const ExportOptions &options, const VisionLanguageFiles &model,
                              Feedback *feedback)
{
    checkFileDestination(options.outPath, options.overwrite);
    const GgmlType type = parseGgmlType(resolveGgufDtype(options.dtype, model.language.config, false));
    writeInternVLMmproj(model, options.outPath, type, feedback);
    ExportResult result;
    try {
        GgufFile file(options.outPath);
        for (const auto &[name, gguf] : internVLMmprojTensorNames(model)) {
            const torch::Tensor got = file.tensor(gguf);
            const torch::Tensor want = model.weights->tensor(name).reshape(got.sizes());
            const double difference = maxDifference(got, want);
            result.maxVerifyError = std::max(result.maxVerifyError, difference);
            ++result.tensorsChecked;
            if (difference > relativeTolerance(file.tensorInfo(gguf).type) * want.abs().max().item<double>())
                throw Error("tensor '" + gguf + "' does not hold '" + name + "'");
        }
    } catch (const Error &e) {
        std::error_code ignored;
        fs::remove(options.outPath, ignored);
        throw Error("Verification of the mmproj GGUF '" + options.outPath + "' failed (" + e.what() +
                    "); the file was removed.");
    }
    return result;
}

} // namespace

ExportFormat parseExportFormat(const std::string &name)
{
    if (const std::optional<ExportFormat> format = choiceFromName(kExportFormatChoices, name))
        return *format;
    throw Error("Unknown export format '" + name + "'; use " + choiceNames(kExportFormatChoices, " or ") +
                ".");
}

std::string exportFormatName(ExportFormat format)
{
    return choiceName(kExportFormatChoices, format);
}

nlohmann::json ExportResult::toJson() const
{
    return {{"format", format},
            {"path", path},
            {"bytes", bytes},
            {"tensors_checked", tensorsChecked},
            {"max_verify_error", maxVerifyError},
            {"seconds", seconds}};
}

ExportResult runExport(const ExportOptions &options, Feedback *feedback)
{
    const auto start = std::chrono::steady_clock::now();
    if (options.outPath.empty())
        throw Error("No output path given for the export.");
    // A vision-language model: the adapter sits on its language model (under either naming). The llama.cpp
    // exports are its language model's, which llama.cpp runs beside the mmproj of its unchanged tower.
    const StageModel original = openStageModel(options.modelPath);
    const std::optional<VisionLanguageFiles> &vision = original.vision;
    const ModelFiles &model = original.files;
    ExportResult result;
    if (options.format == ExportFormat::GgufMmproj) { // the frozen tower: no adapter touches it
        if (!vision)
            throw Error("'" + options.modelPath +
                        "' is a text model; gguf-mmproj is the vision projector of a vision-language model.");
        result = exportGgufMmproj(options, *vision, feedback);
    } else {
        if (options.adapterPath.empty())
            throw Error("The " + exportFormatName(options.format) + " export needs the adapter (--adapter).");
        const PeftAdapter adapter = readStageAdapter(options.adapterPath, original, options.modelPath);
        switch (options.format) {
        case ExportFormat::Peft:
            result = exportPeft(options, adapter, vision ? &*vision : nullptr);
            break;
        case ExportFormat::Merged:
            result = vision ? exportMergedInternVL(options, *vision, adapter, feedback)
                            : exportMerged(options, model, adapter, feedback);
            break;
        case ExportFormat::GgufLora:
            result = exportGgufLora(options, model, adapter, feedback);
            break;
        case ExportFormat::GgufMerged:
            result = exportGgufMerged(options, model, adapter, feedback);
            break;
        case ExportFormat::GgufMmproj:
            break;
        case ExportFormat::Ollama:
            result = exportOllama(options, model, vision ? &*vision : nullptr, feedback);
            break;
        }
    }
    result.format = exportFormatName(options.format);
    result.path = fs::absolute(options.outPath).lexically_normal().string();
    result.bytes = sizeOnDisk(options.outPath);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace emloc::core
