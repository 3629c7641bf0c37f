#pragma once
// InternVL's dynamic resolution: an image becomes a grid of square tiles (the grid whose aspect ratio is
// closest to the image's, between the configured least and most tiles) plus, when there are several,
// a thumbnail of the whole image; each tile is normalised with the checkpoint's mean and deviation.

#include "emloc/vision/rgb_image.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

struct TilingSettings
{
    int64_t tileSize = 448;
    int64_t minTiles = 1;
    int64_t maxTiles = 12;
    bool thumbnail = true;
    std::array<float, 3> mean{};
    std::array<float, 3> std{};
};

// The checkpoint's settings: tile size and tile counts from config.json (`force_image_size` or
// `vision_config.image_size`, `min_dynamic_patch`, `max_dynamic_patch`, `use_thumbnail`,
// `dynamic_image_size`), mean and deviation from preprocessor_config.json (`image_mean`, `image_std`),
// which must be there: no checkpoint's statistics are assumed. Error names the file and the key.
// `config`: the folder's config.json when the caller has parsed it already (null: read here).
TilingSettings tilingSettingsFromFolder(const std::string &folder, const nlohmann::json *config = nullptr);

// The grid (columns, rows) InternVL chooses for a width x height image.
std::pair<int64_t, int64_t> tileGrid(int64_t width, int64_t height, const TilingSettings &settings);

// How many tiles tileImage() makes of a width x height image, thumbnail included.
int64_t tileCount(int64_t width, int64_t height, const TilingSettings &settings);

// The tiles, row by row, then the thumbnail (when enabled and there is more than one tile).
std::vector<RgbImage> tileImage(const RgbImage &image, const TilingSettings &settings);

// [tiles, 3, size, size] float32: (pixel / 255 - mean) / std per channel, as torchvision's ToTensor
// and Normalize compute it.
torch::Tensor pixelValues(const std::vector<RgbImage> &tiles, const TilingSettings &settings);

} // namespace emloc::core
