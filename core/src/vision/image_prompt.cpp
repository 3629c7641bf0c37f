#include "emloc/vision/image_prompt.h"

#include "emloc/api/error.h"
#include "emloc/text/tokenizer.h"

namespace emloc::core {

namespace {

// RFC 4648 base64 (padding optional, no whitespace inside), as data: URLs carry images.
bool decodeBase64(const std::string &text, size_t from, std::string &bytes)
{
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z')
            return c - 'A';
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 26;
        if (c >= '0' && c <= '9')
            return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    };
    uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = from; i < text.size(); ++i) {
        if (text[i] == '=')
            return text.find_first_not_of('=', i) == std::string::npos;
        const int v = value(text[i]);
        if (v < 0)
            return false;
        buffer = (buffer << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(char((buffer >> bits) & 0xFF));
        }
    }
    return true;
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

std::string expandImagePlaceholders(const std::string &text, const std::vector<int64_t> &tilesPerImage,
                                    int64_t tokensPerTile)
{
    const size_t placeholders = countImagePlaceholders(text);
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
            result += kImageContextToken;
        result += "</img>";
        from = at + std::string(kImagePlaceholder).size();
    }
    return result + text.substr(from);
}

ImagePrompt buildImagePrompt(const std::string &question, const std::vector<std::string> &imagePaths,
                             const TilingSettings &tiling, int64_t tokensPerTile,
                             const std::function<std::string(const std::string &)> &render,
                             const Tokenizer &tokenizer, bool addSpecialTokens)
{
    ImagePrompt prompt;
    prompt.images = loadPromptImages(imagePaths, tiling);
    const std::string placed = withImagePlaceholders(question, imagePaths.size());
    prompt.rendered = render ? render(placed) : placed;
    prompt.ids =
        tokenizer.encode(expandImagePlaceholders(prompt.rendered, prompt.images.tilesPerImage, tokensPerTile),
                         addSpecialTokens);
    return prompt;
}

} // namespace emloc::core

namespace emloc::core {

RgbImage readRecordImage(const DatasetRecord &record, size_t index, const std::string &datasetPath,
                         const ImageLimits &limits)
{
    return readImageSource(record.images.at(index),
                           datasetPath + ": record " + std::to_string(record.number) + ", image " +
                               std::to_string(index + 1),
                           limits);
}

RgbImage readImageSource(const std::string &source, const std::string &name, const ImageLimits &limits)
{
    if (source.rfind("data:", 0) != 0) {
        try {
            return readImageFile(source, limits);
        } catch (const Error &error) { // it names the file; the record is named here
            throw Error(name + ": " + error.what());
        }
    }
    const size_t comma = source.find(',');
    const std::string header = source.substr(0, comma == std::string::npos ? 0 : comma);
    std::string bytes;
    if (comma == std::string::npos || header.find(";base64") == std::string::npos ||
        !decodeBase64(source, comma + 1, bytes))
        throw Error(name + ": the data: URL is not base64 image data (data:image/png;base64,...)");
    return decodeImage(bytes, name, limits);
}

std::vector<int64_t> expandRecordImages(DatasetRecord &record, const std::string &datasetPath,
                                        const TilingSettings &tiling, int64_t tokensPerTile,
                                        const ImageLimits &limits)
{
    const size_t placeholders = countImagePlaceholders(record);
    if (placeholders != record.images.size())
        throw Error(datasetPath + ": record " + std::to_string(record.number) + " has " +
                    std::to_string(placeholders) + " " + kImagePlaceholder + " placeholder(s) for " +
                    std::to_string(record.images.size()) + " image(s)");
    std::vector<int64_t> tiles;
    for (size_t i = 0; i < record.images.size(); ++i) {
        const RgbImage image = readRecordImage(record, i, datasetPath, limits);
        tiles.push_back(tileCount(image.width, image.height, tiling));
    }
    size_t next = 0;
    auto expand = [&](std::string &text) {
        const size_t count = countImagePlaceholders(text);
        if (count == 0)
            return;
        const std::vector<int64_t> mine(tiles.begin() + std::ptrdiff_t(next),
                                        tiles.begin() + std::ptrdiff_t(next + count));
        text = expandImagePlaceholders(text, mine, tokensPerTile);
        next += count;
    };
    for (ChatMessage &message : record.messages)
        expand(message.content);
    expand(record.alpacaInput);
    return tiles;
}

} // namespace emloc::core
