#include "internvl_export.h"

#include "emloc/api/error.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/safetensors_folder.h"
#include "emloc/io/staging_folder.h"
#include "emloc/vision/internvl_weights.h"

#include <filesystem>
#include <map>

namespace emloc::core {

namespace fs = std::filesystem;

namespace {

// The source folder's files other than its weights, which the merged checkpoint needs as they are.
bool isWeightsFile(const fs::path &file)
{
    const std::string name = file.filename().string();
    return file.extension() == ".safetensors" || name == "model.safetensors.index.json" ||
           file.extension() == ".bin" || file.extension() == ".pt" || file.extension() == ".pth" ||
           name == "pytorch_model.bin.index.json";
}

} // namespace

ExportResult exportMergedInternVL(const ExportOptions &options, const VisionLanguageFiles &model,
                                  const PeftAdapter &adapter, Feedback *feedback)
{
    if (options.dtype != "auto" && !options.dtype.empty())
        throw Error("A merged vision-language model keeps each tensor's stored dtype (the tower's and the "
                    "language model's); leave the dtype 'auto' (it is '" +
                    options.dtype + "').");
    // Checkpoint tensor -> the language model's name of the same weight; a fused InternLM2 wqkv -> its
    // layer's attention ("model.layers.N.self_attn."), rebuilt from the merged q, k and v.
    std::map<std::string, std::string> mergedNames, fusedAttention;
    for (const PeftLoraModule &module : adapter.modules) {
        const std::string name = module.module + ".weight";
        const std::string source = internVLSourceName(*model.language.weights, name);
        const std::string fusedQkv = ".attention.wqkv.weight", attention = "self_attn.";
        if (source.size() > fusedQkv.size() &&
            source.compare(source.size() - fusedQkv.size(), fusedQkv.size(), fusedQkv) == 0) {
            fusedAttention[source] = name.substr(0, name.rfind(attention) + attention.size());
            continue;
        }
        try {
            mergedNames[internVLStoredName(*model.language.weights, name)] = name;
        } catch (const Error &error) {
            throw Error("The adapter's module '" + module.module + "' cannot be merged into '" + model.path +
                        "' in its own layout: " + error.what() + ". Export the PEFT adapter instead.");
        }
    }
    const std::shared_ptr<WeightSource> merged =
        mergeAdapterWeights(model.language.weights, adapter, torch::kFloat32);
    const SafetensorsModel checkpoint(model.path);

    StagingFolder staging(options.outPath, options.overwrite);
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(model.path, error))
        if (entry.is_regular_file() && !isWeightsFile(entry.path()))
            fs::copy_file(entry.path(), fs::path(staging.path()) / entry.path().filename(),
                          fs::copy_options::overwrite_existing);
    SafetensorsFolderInput weights;
    weights.names = checkpoint.names();
    weights.bytesOf = [&](const std::string &name) {
        const TensorInfo &info = checkpoint.info(name);
        return info.end - info.begin;
    };
    weights.tensorOf = [&](const std::string &name) {
        torch::Tensor stored = checkpoint.tensor(name);
        if (const auto fused = fusedAttention.find(name); fused != fusedAttention.end()) {
            const std::string &attention = fused->second;
            return fuseInternLM2Qkv(merged->tensor(attention + "q_proj.weight"),
                                    merged->tensor(attention + "k_proj.weight"),
                                    merged->tensor(attention + "v_proj.weight"), model.config.language)
                .to(stored.scalar_type());
        }
        const auto found = mergedNames.find(name);
        return found == mergedNames.end() ? stored : merged->tensor(found->second).to(stored.scalar_type());
    };
    writeSafetensorsFolder(staging.path(), weights, feedback);

    // Read back as the engine reads a checkpoint: every merged projection as intended, bit for bit.
    ExportResult result;
    const VisionLanguageFiles written = openVisionLanguageModel(staging.path());
    if (written.weights->names().size() != model.weights->names().size())
        throw Error("Verification of the merged model failed: it holds " +
                    std::to_string(written.weights->names().size()) + " tensors, the source " +
                    std::to_string(model.weights->names().size()) + "; nothing was saved to '" +
                    options.outPath + "'.");
    for (const PeftLoraModule &module : adapter.modules) {
        const std::string languageName = module.module + ".weight";
        const torch::Tensor got = written.language.weights->tensor(languageName);
        const torch::Tensor want = merged->tensor(languageName).to(got.scalar_type());
        ++result.tensorsChecked;
        if (!got.sizes().equals(want.sizes()) || !torch::equal(got, want))
            throw Error("Verification of the merged model failed at '" + languageName +
                        "': it did not read back as written; nothing was saved to '" + options.outPath +
                        "'.");
    }
    staging.commit();
    return result;
}

} // namespace emloc::core
