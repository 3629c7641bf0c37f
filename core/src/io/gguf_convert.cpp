// Any opened model (typically a GGUF) written as a Hugging Face folder transformers loads.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/dtype.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/staging_folder.h"

#include <filesystem>

namespace emloc::core {

namespace {

constexpr uint64_t kShardBytes =
    2ull << 30; // shards of at most 2 GiB, as transformers' default 5 GB would be unwieldy

torch::ScalarType parseTorchDtype(const std::string &dtype)
{
    const std::optional<torch::ScalarType> type = floatDtypeFromName(dtype);
    if (type == torch::kFloat32 || type == torch::kFloat16 || type == torch::kBFloat16)
        return *type;
    throw Error("Unknown dtype '" + dtype + "' for the converted weights; use float32, float16 or bfloat16.");
}

std::string shardName(size_t index, size_t count)
{
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return name;
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

    // Shard plan from the shapes alone, so only one shard's tensors are in memory at a time.
    std::vector<std::string> names = model.weights->names();
    if (config.tieWordEmbeddings)
        names.erase(std::remove(names.begin(), names.end(), std::string("lm_head.weight")), names.end());
    const int64_t elementBytes = targetType == torch::kFloat32 ? 4 : 2;
    std::vector<std::vector<std::string>> shards(1);
    uint64_t shardBytes = 0, totalBytes = 0;
    for (const auto &name : names) {
        int64_t elements = 1;
        for (int64_t d : model.weights->shape(name))
            elements *= d;
        const uint64_t bytes = static_cast<uint64_t>(elements * elementBytes);
        if (shardBytes > 0 && shardBytes + bytes > kShardBytes) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(name);
        shardBytes += bytes;
        totalBytes += bytes;
    }

    nlohmann::json weightMap = nlohmann::json::object();
    size_t done = 0;
    for (size_t s = 0; s < shards.size(); ++s) {
        const std::string fileName = shards.size() == 1 ? "model.safetensors" : shardName(s, shards.size());
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto &name : shards[s]) {
            if (feedback) {
                feedback->checkpoint();
                feedback->progress("convert", static_cast<int64_t>(done), static_cast<int64_t>(names.size()));
            }
            tensors.emplace_back(name, model.weights->tensor(name).to(targetType).contiguous());
            weightMap[name] = fileName;
            ++done;
        }
        writeSafetensors((folder / fileName).string(), tensors, {{"format", "pt"}});
    }
    if (shards.size() > 1) {
        nlohmann::json index = {{"metadata", {{"total_size", totalBytes}}}, {"weight_map", weightMap}};
        writeFileAtomically((folder / "model.safetensors.index.json").string(), index.dump(2) + "\n");
    }

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
