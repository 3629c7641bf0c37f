#pragma once
// Images in a prompt as InternVL's own chat code places them: each "<image>" placeholder of the text
// becomes "<img>", one "<IMG_CONTEXT>" per token the image's tiles give, and "</img>"; the images' tiles
// are stacked in the same order for the vision tower.

#include "emloc/text/dataset_reader.h"
#include "emloc/text/image_placeholders.h"
#include "emloc/vision/internvl_tiles.h"

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace emloc::core {

class Tokenizer;

// The token each of an image's rows stands on in the language model's input.
constexpr const char *kImageContextToken = "<IMG_CONTEXT>";

struct PromptImages
{
    torch::Tensor pixelValues; // [all tiles, 3, S, S], the images' tiles in order
    std::vector<int64_t> tilesPerImage;
};

// Reads and tiles the image files in order. Error names the file (and what to do) when one cannot be read.
PromptImages loadPromptImages(const std::vector<std::string> &paths, const TilingSettings &tiling,
                              const ImageLimits &limits = {});

// Expands the placeholders in order. Error when their count differs from the images'.
std::string expandImagePlaceholders(const std::string &text, const std::vector<int64_t> &tilesPerImage,
                                    int64_t tokensPerTile);

// A question about image files as the model reads it (`emloc generate --image`, the Studio's chat): a
// placeholder per image (before the text when it has none), `render` applied (a chat template; empty: as is),
// each placeholder expanded to the image's tokens, tokenized.
struct ImagePrompt
{
    std::string rendered; // before the placeholders are expanded: what a user reads
    std::vector<int64_t> ids;
    PromptImages images;
};
ImagePrompt buildImagePrompt(const std::string &question, const std::vector<std::string> &imagePaths,
                             const TilingSettings &tiling, int64_t tokensPerTile,
                             const std::function<std::string(const std::string &)> &render,
                             const Tokenizer &tokenizer, bool addSpecialTokens);

// A dataset record's image (DatasetRecord::images: a file path or a data: URL) decoded. Error names the
// record and the image.
RgbImage readRecordImage(const DatasetRecord &record, size_t index, const std::string &datasetPath,
                         const ImageLimits &limits = {});

// An image given as a file path or a data: URL, decoded. Error names `name` (the record and image) and
// the file.
RgbImage readImageSource(const std::string &source, const std::string &name, const ImageLimits &limits = {});

// Expands the record's placeholders in place (its messages' text, in order) with its images' tokens;
// returns each image's tile count. The images are decoded to learn their sizes.
std::vector<int64_t> expandRecordImages(DatasetRecord &record, const std::string &datasetPath,
                                        const TilingSettings &tiling, int64_t tokensPerTile,
                                        const ImageLimits &limits = {});

} // namespace emloc::core
