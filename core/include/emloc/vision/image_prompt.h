#pragma once
// Images in a prompt as InternVL's own chat code places them: each "<image>" placeholder of the text
// becomes "<img>", one "<IMG_CONTEXT>" per token the image's tiles give, and "</img>"; the images' tiles
// are stacked in the same order for the vision tower.

#include "emloc/vision/internvl_tiles.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace emloc::core {

constexpr const char *kImagePlaceholder = "<image>";

struct PromptImages
{
    torch::Tensor pixelValues; // [all tiles, 3, S, S], the images' tiles in order
    std::vector<int64_t> tilesPerImage;
};

// Reads and tiles the image files in order. Error names the file (and what to do) when one cannot be read.
PromptImages loadPromptImages(const std::vector<std::string> &paths, const TilingSettings &tiling,
                              const ImageLimits &limits = {});

// The text with a placeholder for each image, as InternVL's chat() and its multi-image examples write
// it when the user wrote none: "<image>\n" before a single image's question, "Image-1: <image>\n..." one
// line per image before a question about several. Text that already holds placeholders is returned as is.
std::string withImagePlaceholders(const std::string &text, size_t images);

// Expands the placeholders in order. Error when their count differs from the images'.
std::string expandImagePlaceholders(const std::string &text, const std::vector<int64_t> &tilesPerImage,
                                    int64_t tokensPerTile);

} // namespace emloc::core
