#include "emloc/stages/image_inputs.h"

#include "emloc/api/error.h"
#include "emloc/stages/emulator_build.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace emloc::core {

ImageInputs::ImageInputs(const VisionLanguageFiles &files, const TensorPlacement &placement)
    : m_encoder(files, placement), m_imageTokenId(files.config.imageTokenId)
{}

torch::Tensor ImageInputs::embed(const CausalLM &model, const torch::Tensor &ids,
                                 const std::vector<std::string> &images, const std::string &where) const
{
    torch::Tensor rows;
    if (!images.empty()) {
        torch::NoGradGuard noGrad;
        rows = m_encoder.rows(images, where);
    }
    return spliceImageRows(model.embed(ids), ids, rows, m_imageTokenId);
}

std::optional<VisionLanguageFiles> visionSourceOfEmulator(const std::string &path)
{
    const std::filesystem::path manifestPath = std::filesystem::path(path) / "emulator.json";
    std::error_code error;
    if (!std::filesystem::is_regular_file(manifestPath, error))
        return std::nullopt; // not an emulator
    const nlohmann::json manifest = readEmulatorManifest(path);
    if (!manifest.contains("vision_tower"))
        return std::nullopt;
    const std::string source = manifest.value("source", nlohmann::json::object()).value("path", "");
    if (source.empty() || !isVisionLanguageFolder(source))
        throw Error(manifestPath.string() + ": the emulator stands for the vision-language model '" + source +
                    "', whose vision tower it uses, but that folder is gone or no longer holds one; put "
                    "the model back there, or build the emulator again from where it is now");
    // Its tower's rows must be the ones the emulator was calibrated with.
    const std::string fingerprint = manifest["source"].value("fingerprint", "");
    if (!fingerprint.empty() && fingerprint != modelFingerprint(source))
        throw Error(manifestPath.string() + ": the vision-language model '" + source +
                    "' changed since this emulator was built from it (its config.json or weights differ); "
                    "build the emulator again");
    return openVisionLanguageModel(source);
}

} // namespace emloc::core
