#include "emloc/stages/image_inputs.h"

#include "emloc/api/error.h"
#include "emloc/io/safetensors.h"
#include "emloc/stages/emulator_build.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace emloc::core {

namespace {

// The source's weights with a file's tensors added: an emulator's tower factors ("<linear>.weight_u",
// ".weight_v"), which the tower reads in place of the linear's ".weight".
class OverlaidWeights : public WeightSource
{
public:
    OverlaidWeights(std::shared_ptr<WeightSource> base, const std::string &path)
        : m_base(std::move(base)), m_file(std::make_shared<SafetensorsFile>(path))
    {}
    std::vector<std::string> names() const override
    {
        std::vector<std::string> names = m_base->names();
        for (const std::string &name : m_file->names())
            if (!m_base->contains(name))
                names.push_back(name);
        return names;
    }
    bool contains(const std::string &name) const override
    {
        return m_file->contains(name) || m_base->contains(name);
    }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        return m_file->contains(name) ? m_file->info(name).shape : m_base->shape(name);
    }
    torch::Tensor tensor(const std::string &name) const override
    {
        return m_file->contains(name) ? m_file->tensor(name) : m_base->tensor(name);
    }

private:
    std::shared_ptr<WeightSource> m_base;
    std::shared_ptr<SafetensorsFile> m_file;
};

} // namespace

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
    const nlohmann::json &tower = manifest["vision_tower"];
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
    VisionLanguageFiles files = openVisionLanguageModel(source);
    if (tower.is_object()) { // the tower's compressed linears, over the source's weights
        const std::string factors = tower.value("weights", "");
        const std::filesystem::path factorsPath = std::filesystem::path(path) / factors;
        if (factors.empty() || !std::filesystem::is_regular_file(factorsPath, error))
            throw Error(manifestPath.string() + ": the emulator's compressed vision tower ('" +
                        factorsPath.string() + "') is missing; build the emulator again");
        files.weights = std::make_shared<OverlaidWeights>(files.weights, factorsPath.string());
    }
    return files;
}

} // namespace emloc::core
