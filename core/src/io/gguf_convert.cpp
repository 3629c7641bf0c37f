// Any opened model (typically a GGUF) written as a Hugging Face folder transformers loads.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/dtype.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/safetensors_folder.h"
#include "emloc/io/staging_folder.h"

#include <filesystem>

namespace emloc::core {

namespace {

torch::ScalarType parseTorchDtype(const std::string &dtype)
{
    const std::optional<torch::ScalarType> type = floatDtypeFromName(dtype);
    if (type == torch::kFloat32 || type == torch::kFloat16 || type == torch::kBFloat16)
        return *type;
    throw Error("Unknown dtype '" + dtype + "' for the converted weights; use float32, float16 or bfloat16.");
}

} // namespace

void convertToHuggingFace(const ModelFiles &model, const std::string &outDir, const std::string &dtype,
                          Feedback *feedback)
{
    namespace fs = std::filesystem;
    const torch::ScalarType targetType = parseTorchDtype(dtype);
    if (!model.weights)
        throw Error("Model '" + model.path + "' has no weights to convert");
    fs::path destination = fs::absolute(fs::path(outDir)).lexically_normal();
    if (destination.filename().empty())
        destination = destination.parent_path();
    std::error_code error;
    if (fs::exists(destination, error) && !(fs::is_directory(destination) && fs::is_empty(destination)))
        throw Error("Output folder '" + outDir + "' already exists and is not empty; choose a new folder.");
    if (!fs::is_directory(destination.parent_path(), error))
        throw Error("The parent folder of '" + outDir + "' does not exist; create it first.");

    StagingFolder staging(destination.string(), /*overwrite=*/false);
    const fs::path folder = staging.path();

    ModelConfig config = model.config;
    config.torchDtype = hfDtypeName(targetType);
    writeFileAtomically((folder / "config.json").string(), modelConfigToJson(config).dump(2) + "\n");

    std::vector<std::string> names = model.weights->names();
    if (config.tieWordEmbeddings)
        names.erase(std::remove(names.begin(), names.end(), std::string("lm_head.weight")), names.end());
    const uint64_t elementBytes = targetType == torch::kFloat32 ? 4 : 2;
    SafetensorsFolderInput weights;
    weights.names = names;
    weights.bytesOf = [&](const std::string &name) {
        uint64_t elements = 1;
        for (int64_t d : model.weights->shape(name))
            elements *= static_cast<uint64_t>(d);
        return elements * elementBytes;
    };
    weights.tensorOf = [&](const std::string &name) { return model.weights->tensor(name).to(targetType); };
    writeSafetensorsFolder(folder.string(), weights, feedback);

    if (model.tokenizerJson.is_object() && !model.tokenizerJson.empty())
        writeFileAtomically((folder / "tokenizer.json").string(), model.tokenizerJson.dump(2) + "\n");
    if (model.tokenizerConfig.is_object() && !model.tokenizerConfig.empty())
        writeFileAtomically((folder / "tokenizer_config.json").string(),
                            model.tokenizerConfig.dump(2) + "\n");
    nlohmann::json generation =
        model.generationConfig.is_object() ? model.generationConfig : nlohmann::json::object();
    if (!generation.contains("bos_token_id") && config.bosTokenId >= 0)
        generation["bos_token_id"] = config.bosTokenId;
    if (!generation.contains("eos_token_id") && !config.eosTokenIds.empty())
        generation["eos_token_id"] = config.eosTokenIds.size() == 1 ? nlohmann::json(config.eosTokenIds[0])
                                                                    : nlohmann::json(config.eosTokenIds);
    writeFileAtomically((folder / "generation_config.json").string(), generation.dump(2) + "\n");

    if (feedback) {
        feedback->checkpoint();
        feedback->progress("convert", static_cast<int64_t>(names.size()), static_cast<int64_t>(names.size()));
    }
    staging.commit(); // replaces the empty folder checked above
}

} // namespace emloc::core
