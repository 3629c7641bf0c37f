#include "emloc/vision/image_rows.h"

#include "emloc/api/error.h"
#include "emloc/vision/image_prompt.h"

namespace emloc::core {

torch::Tensor spliceImageRows(const torch::Tensor &embeddings, const torch::Tensor &ids,
                              const torch::Tensor &rows, int64_t imageTokenId)
{
    const int64_t given = rows.defined() ? rows.size(0) : 0;
    if (imageTokenId < 0) {
        if (given == 0)
            return embeddings;
        throw Error("the model's tokenizer has no " + std::string(kImageContextToken) +
                    " token, so images cannot be placed in the prompt; restore tokenizer.json or "
                    "tokenizer_config.json from the original checkpoint");
    }
    const torch::Tensor slots = ids.to(embeddings.device()) == imageTokenId;
    const int64_t count = slots.sum().item<int64_t>();
    if (count != given)
        throw Error("the prompt has " + std::to_string(count) + " image tokens but its images give " +
                    std::to_string(given) + " (" + std::to_string(imageTokenId) +
                    " is the image token); each image needs its tiles x tokens per tile context tokens");
    if (given == 0)
        return embeddings;
    return embeddings.masked_scatter(slots.unsqueeze(-1), rows.to(embeddings.device(), embeddings.dtype()));
}

ImageTokens datasetImageTokens(const VisionLanguageFiles &files, const std::string &datasetPath,
                               const ImageLimits &limits)
{
    ImageTokens tokens;
    tokens.tokensPerTile = files.config.tokensPerTile(files.tiling.tileSize);
    tokens.contextTokenId = files.config.imageTokenId;
    tokens.expand = [tiling = files.tiling, perTile = tokens.tokensPerTile, datasetPath,
                     limits](DatasetRecord &record) {
        return expandRecordImages(record, datasetPath, tiling, perTile, limits);
    };
    return tokens;
}

ImageRowEncoder::ImageRowEncoder(const VisionLanguageFiles &files, const TensorPlacement &placement,
                                 const ImageLimits &limits)
    : m_tiling(files.tiling), m_limits(limits), m_tower(files.config, *files.weights, placement)
{}

torch::Tensor ImageRowEncoder::rows(const std::vector<std::string> &images, const std::string &where) const
{
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i < images.size(); ++i) {
        const RgbImage image =
            readImageSource(images[i], where + ", image " + std::to_string(i + 1), m_limits);
        const torch::Tensor embeddings =
            m_tower.imageEmbeddings(pixelValues(tileImage(image, m_tiling), m_tiling));
        parts.push_back(embeddings.reshape({-1, embeddings.size(-1)}));
    }
    return parts.empty() ? torch::Tensor() : torch::cat(parts, 0);
}

} // namespace emloc::core
