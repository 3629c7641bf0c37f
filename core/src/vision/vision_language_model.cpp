#include "emloc/vision/vision_language_model.h"

#include "emloc/api/error.h"
#include "emloc/io/safetensors_weights.h"
#include "emloc/io/sentencepiece_tokenizer.h"
#include "emloc/model/prefilled_generation.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/internvl_weights.h"

#include <sys/stat.h>

namespace emloc::core {

namespace {

// The original layout keeps the image context token's id in its tokenizer only: tokenizer.json's
// added_tokens, or tokenizer_config.json's added_tokens_decoder (sentencepiece checkpoints).
int64_t imageContextTokenId(const ModelFiles &files)
{
    const auto added = files.tokenizerJson.find("added_tokens");
    if (added != files.tokenizerJson.end() && added->is_array())
        for (const nlohmann::json &token : *added)
            if (token.is_object() && token.contains("content") && token["content"] == kImageContextToken &&
                token.contains("id") && token["id"].is_number_integer())
                return token["id"].get<int64_t>();
    const auto decoder = files.tokenizerConfig.find("added_tokens_decoder");
    if (decoder != files.tokenizerConfig.end() && decoder->is_object())
        for (const auto &[id, token] : decoder->items())
            if (token.is_object() && token.contains("content") && token["content"] == kImageContextToken) {
                try {
                    return std::stoll(id);
                } catch (const std::exception &) {
                    break;
                }
            }
    return -1;
}

void requireTensor(const WeightSource &weights, const std::string &name, const std::string &folder)
{
    if (!weights.contains(name))
        throw Error("the weights in '" + folder + "' have no tensor for '" + name +
                    "': the checkpoint is incomplete or config.json belongs to another model");
}

} // namespace

StageModel openStageModel(const std::string &path)
{
    StageModel model;
    if (isVisionLanguageFolder(path))
        model.vision = openVisionLanguageModel(path);
    model.files = model.vision ? model.vision->language : openModel(path);
    return model;
}

bool isVisionLanguageFolder(const std::string &path)
{
    struct stat pathStat
    {};
    if (::stat(path.c_str(), &pathStat) != 0 || !S_ISDIR(pathStat.st_mode))
        return false;
    try {
        return isVisionLanguageConfig(optionalFolderJson(path, "config.json"));
    } catch (const Error &) {
        return false; // a malformed config.json: openModel says what is wrong with it
    }
}

VisionLanguageFiles openVisionLanguageModel(const std::string &path)
{
    const std::string configPath = path + "/config.json";
    struct stat configStat
    {};
    if (::stat(configPath.c_str(), &configStat) != 0)
        throw Error("the folder '" + path +
                    "' has no config.json: a vision-language model folder needs "
                    "config.json, preprocessor_config.json and its safetensors weights");
    VisionLanguageFiles files;
    files.path = path;
    const nlohmann::json rawConfig = optionalFolderJson(path, "config.json");
    files.config = parseInternVLConfig(rawConfig, configPath);
    files.tiling = tilingSettingsFromFolder(path, &rawConfig);
    if (files.tiling.tileSize % (files.config.vision.patchSize * files.config.unshuffleFactor) != 0)
        throw Error(path + ": the tile size " + std::to_string(files.tiling.tileSize) +
                    " is not a multiple of the patch size times the downsample factor (" +
                    std::to_string(files.config.vision.patchSize * files.config.unshuffleFactor) + ")");

    ModelFiles &language = files.language;
    language.path = path;
    language.format = "hf";
    language.config = files.config.language;
    const std::shared_ptr<WeightSource> checkpoint = openSafetensorsWeights(path);
    files.weights = internVLWeights(checkpoint, files.config);
    language.weights = internVLWeights(checkpoint, files.config, InternVLParts::LanguageModel);
    requireTensor(*files.weights, "model.embed_tokens.weight", path);
    requireTensor(*files.weights, "vision_tower.embeddings.cls_token", path);
    requireTensor(*files.weights, "multi_modal_projector.linear_1.weight", path);
    language.tokenizerConfig = optionalFolderJson(path, "tokenizer_config.json");
    language.tokenizerJson = folderTokenizerJson(path, language.tokenizerConfig); // or from tokenizer.model
    language.generationConfig = optionalFolderJson(path, "generation_config.json");
    if (files.config.imageTokenId < 0)
        files.config.imageTokenId = imageContextTokenId(language);
    return files;
}

VisionLanguageModel::VisionLanguageModel(const VisionLanguageFiles &files, const CausalLMOptions &options,
                                         Feedback *feedback)
    : m_config(files.config), m_language(files.language.config, files.language.weights, options, feedback),
      m_tower(files.config, *files.weights, options.placement)
{}

torch::Tensor VisionLanguageModel::imageEmbeddings(const torch::Tensor &pixelValues) const
{
    return m_tower.imageEmbeddings(pixelValues);
}

torch::Tensor VisionLanguageModel::embed(const torch::Tensor &ids, const torch::Tensor &imageEmbeddings) const
{
    const torch::Tensor rows =
        imageEmbeddings.defined() ? imageEmbeddings.reshape({-1, imageEmbeddings.size(-1)}) : torch::Tensor();
    return spliceImageRows(m_language.embed(ids), ids, rows, m_config.imageTokenId);
}

torch::Tensor VisionLanguageModel::forwardHidden(const torch::Tensor &ids, const torch::Tensor &pixelValues,
                                                 const torch::Tensor &attentionMask, KVCache *cache)
{
    return m_language.forwardEmbeddings(
        embed(ids, pixelValues.defined() ? imageEmbeddings(pixelValues) : torch::Tensor()), attentionMask,
        cache);
}

torch::Tensor VisionLanguageModel::forward(const torch::Tensor &ids, const torch::Tensor &pixelValues,
                                           const torch::Tensor &attentionMask, KVCache *cache)
{
    return m_language.lmHead(forwardHidden(ids, pixelValues, attentionMask, cache));
}

GenerationResult VisionLanguageModel::generate(const std::vector<int64_t> &promptIds,
                                               const torch::Tensor &pixelValues,
                                               const GenerationOptions &options, const TokenCallback &onToken,
                                               Feedback *feedback)
{
    const PrefillStep prefill = [&](const torch::Tensor &ids, KVCache &cache) {
        return forwardHidden(ids, pixelValues, {}, &cache);
    };
    return generateWithPrefill(m_language, promptIds, prefill, options, onToken, feedback);
}

} // namespace emloc::core
