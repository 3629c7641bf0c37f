#include "emloc/vision/image_prompt.h"

#include "emloc/api/error.h"

namespace emloc::core {

namespace {

size_t countPlaceholders(const std::string &text)
{
    size_t count = 0;
    for (size_t at = text.find(kImagePlaceholder); at != std::string::npos;
         at = text.find(kImagePlaceholder, at + 1))
        ++count;
    return count;
}

} // namespace

PromptImages loadPromptImages(const std::vector<std::string> &paths, const TilingSettings &tiling,
                              const ImageLimits &limits)
{
    PromptImages images;
    std::vector<torch::Tensor> tiles;
    for (const std::string &path : paths) {
        const std::vector<RgbImage> imageTiles = tileImage(readImageFile(path, limits), tiling);
        images.tilesPerImage.push_back(static_cast<int64_t>(imageTiles.size()));
        tiles.push_back(pixelValues(imageTiles, tiling));
    }
    if (!tiles.empty())
        images.pixelValues = torch::cat(tiles, 0);
    return images;
}

std::string withImagePlaceholders(const std::string &text, size_t images)
{
    if (images == 0 || countPlaceholders(text) > 0)
        return text;
    if (images == 1)
        return std::string(kImagePlaceholder) + "\n" + text;
    std::string prefix;
    for (size_t i = 0; i < images; ++i)
        prefix += "Image-" + std::to_string(i + 1) + ": " + kImagePlaceholder + "\n";
    return prefix + text;
}

std::string expandImagePlaceholders(const std::string &text, const std::vector<int64_t> &tilesPerImage,
                                    int64_t tokensPerTile)
{
    const size_t placeholders = countPlaceholders(text);
    if (placeholders != tilesPerImage.size())
        throw Error("the prompt has " + std::to_string(placeholders) + " " + kImagePlaceholder +
                    " placeholder(s) but " + std::to_string(tilesPerImage.size()) +
                    " image(s) were given; write one " + kImagePlaceholder +
                    " where each image belongs, or none to put them all before the text");
    std::string result;
    size_t from = 0;
    for (int64_t tiles : tilesPerImage) {
        const size_t at = text.find(kImagePlaceholder, from);
        result += text.substr(from, at - from);
        result += "<img>";
        for (int64_t i = 0; i < tiles * tokensPerTile; ++i)
            result += "<IMG_CONTEXT>";
        result += "</img>";
        from = at + std::string(kImagePlaceholder).size();
    }
    return result + text.substr(from);
}

} // namespace emloc::core
