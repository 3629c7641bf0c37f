#include "emloc/vision/internvl_tiles.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace emloc::core {

namespace {

nlohmann::json readJsonObject(const std::string &path)
{
    nlohmann::json document = nlohmann::json::parse(readTextFile(path), nullptr, /*allow_exceptions=*/false);
    if (!document.is_object())
        throw Error(path + ": not a JSON object");
    return document;
}

int64_t positiveInteger(const nlohmann::json &value, const std::string &where)
{
    if (!value.is_number_integer() || value.get<int64_t>() <= 0)
        throw Error(where + " must be a positive whole number, not " + value.dump());
    return value.get<int64_t>();
}

// A true/false key that defaults to true (InternVL's own defaults for both keys read with it).
bool flag(const nlohmann::json &config, const char *key, const std::string &file)
{
    const auto found = config.find(key);
    if (found == config.end() || found->is_null())
        return true;
    if (!found->is_boolean())
        throw Error(file + ": \"" + std::string(key) + "\" must be true or false, not " + found->dump());
    return found->get<bool>();
}

// One side of a square: 448, [448, 448] or {"height": 448, "width": 448}.
int64_t squareSize(const nlohmann::json &value, const std::string &where)
{
    if (value.is_array() && value.size() == 2 && value[0] == value[1])
        return positiveInteger(value[0], where);
    if (value.is_object() && value.contains("height") && value.contains("width") &&
        value["height"] == value["width"])
        return positiveInteger(value["height"], where);
    if (value.is_array() || value.is_object())
        throw Error(where + " must be one size or two equal ones (square tiles), not " + value.dump());
    return positiveInteger(value, where);
}

std::array<float, 3> channelTriple(const nlohmann::json &object, const char *key, const std::string &file)
{
    const auto found = object.find(key);
    if (found == object.end())
        throw Error(file + ": has no \"" + std::string(key) +
                    "\"; the checkpoint's normalisation must come from its preprocessor config");
    if (!found->is_array() || found->size() != 3 ||
        !std::all_of(found->begin(), found->end(), [](const auto &v) { return v.is_number(); }))
        throw Error(file + ": \"" + std::string(key) + "\" must be three numbers (R, G, B), not " +
                    found->dump());
    return {found->at(0).get<float>(), found->at(1).get<float>(), found->at(2).get<float>()};
}

} // namespace

TilingSettings tilingSettingsFromFolder(const std::string &folder, const nlohmann::json *parsedConfig)
{
    const std::string configPath = folder + "/config.json";
    const std::string preprocessorPath = folder + "/preprocessor_config.json";
    const nlohmann::json config = parsedConfig ? *parsedConfig : readJsonObject(configPath);
    const nlohmann::json preprocessor = readJsonObject(preprocessorPath);
    TilingSettings settings;
    // The tile size: the original layout's force_image_size, else the -hf processor's "size", else the
    // vision tower's own image size (transformers writes sizes as [h, w] or {"height", "width"}).
    if (config.contains("force_image_size") && !config["force_image_size"].is_null())
        settings.tileSize = squareSize(config["force_image_size"], configPath + ": \"force_image_size\"");
    else if (preprocessor.contains("size") && preprocessor["size"].is_object())
        settings.tileSize = squareSize(preprocessor["size"], preprocessorPath + ": \"size\"");
    else if (config.contains("vision_config") && config["vision_config"].contains("image_size"))
        settings.tileSize =
            squareSize(config["vision_config"]["image_size"], configPath + ": \"vision_config.image_size\"");
    const bool dynamic = flag(config, "dynamic_image_size", configPath);
    // Tile counts: config.json's min/max_dynamic_patch (original layout) or the processor's min/max_patches.
    for (const auto &[file, object, minKey, maxKey] :
         {std::tuple{preprocessorPath, &preprocessor, "min_patches", "max_patches"},
          std::tuple{configPath, &config, "min_dynamic_patch", "max_dynamic_patch"}}) {
        if (object->contains(minKey))
            settings.minTiles = positiveInteger((*object)[minKey], file + ": \"" + minKey + "\"");
        if (object->contains(maxKey))
            settings.maxTiles = positiveInteger((*object)[maxKey], file + ": \"" + maxKey + "\"");
    }
    if (!dynamic)
        settings.minTiles = settings.maxTiles = 1; // one tile: the whole image resized
    if (settings.minTiles > settings.maxTiles)
        throw Error(configPath + ": \"min_dynamic_patch\" (" + std::to_string(settings.minTiles) +
                    ") is above \"max_dynamic_patch\" (" + std::to_string(settings.maxTiles) + ")");
    settings.thumbnail = flag(config, "use_thumbnail", configPath);
    settings.mean = channelTriple(preprocessor, "image_mean", preprocessorPath);
    settings.std = channelTriple(preprocessor, "image_std", preprocessorPath);
    for (float s : settings.std)
        if (!(s > 0))
            throw Error(preprocessorPath + ": \"image_std\" must be positive");
    return settings;
}

std::pair<int64_t, int64_t> tileGrid(int64_t width, int64_t height, const TilingSettings &settings)
{
    // Every grid with between minTiles and maxTiles tiles, fewest tiles first (then by columns: the
    // reference sorts a set by tile count alone, which decides no choice that matters, see below).
    std::vector<std::pair<int64_t, int64_t>> grids;
    for (int64_t columns = 1; columns <= settings.maxTiles; ++columns)
        for (int64_t rows = 1; rows <= settings.maxTiles; ++rows)
            if (columns * rows >= settings.minTiles && columns * rows <= settings.maxTiles)
                grids.emplace_back(columns, rows);
    std::stable_sort(grids.begin(), grids.end(),
                     [](const auto &a, const auto &b) { return a.first * a.second < b.first * b.second; });
    const double aspect = double(width) / double(height);
    const double area = double(width) * double(height);
    double bestDifference = std::numeric_limits<double>::infinity();
    std::pair<int64_t, int64_t> best{1, 1};
    for (const auto &grid : grids) {
        const double difference = std::abs(aspect - double(grid.first) / double(grid.second));
        if (difference < bestDifference) {
            bestDifference = difference;
            best = grid;
        } else if (difference == bestDifference && area > 0.5 *
                                                              double(settings.tileSize * settings.tileSize) *
                                                              double(grid.first * grid.second)) {
            // A grid as close as the best with more tiles wins when the image has the pixels to fill
            // more than half of them.
            best = grid;
        }
    }
    return best;
}

int64_t tileCount(int64_t width, int64_t height, const TilingSettings &settings)
{
    const auto [columns, rows] = tileGrid(width, height, settings);
    return columns * rows + (settings.thumbnail && columns * rows != 1 ? 1 : 0);
}

std::vector<RgbImage> tileImage(const RgbImage &image, const TilingSettings &settings)
{
    const auto [columns, rows] = tileGrid(image.width, image.height, settings);
    const int64_t size = settings.tileSize;
    const RgbImage resized = resizeBicubic(image, columns * size, rows * size);
    std::vector<RgbImage> tiles;
    for (int64_t row = 0; row < rows; ++row)
        for (int64_t column = 0; column < columns; ++column)
            tiles.push_back(cropImage(resized, column * size, row * size, size, size));
    if (static_cast<int64_t>(tiles.size()) < tileCount(image.width, image.height, settings))
        tiles.push_back(resizeBicubic(image, size, size)); // the thumbnail
    return tiles;
}

torch::Tensor pixelValues(const std::vector<RgbImage> &tiles, const TilingSettings &settings)
{
    const int64_t size = settings.tileSize;
    torch::Tensor out = torch::empty({int64_t(tiles.size()), 3, size, size}, torch::kFloat32);
    const torch::Tensor mean =
        torch::tensor({settings.mean[0], settings.mean[1], settings.mean[2]}).view({3, 1, 1});
    const torch::Tensor std =
        torch::tensor({settings.std[0], settings.std[1], settings.std[2]}).view({3, 1, 1});
    for (size_t i = 0; i < tiles.size(); ++i) {
        const RgbImage &tile = tiles[i];
        if (tile.width != size || tile.height != size)
            throw Error("pixelValues: a tile of " + std::to_string(tile.width) + " x " +
                        std::to_string(tile.height) + " pixels, not " + std::to_string(size));
        // HWC bytes -> CHW float: ToTensor divides by 255 in float32, Normalize subtracts and divides.
        torch::Tensor hwc =
            torch::from_blob(const_cast<uint8_t *>(tile.pixels.data()), {size, size, 3}, torch::kUInt8);
        torch::Tensor chw = hwc.permute({2, 0, 1}).to(torch::kFloat32).div(255.0f);
        out[int64_t(i)] = chw.sub(mean).div(std);
    }
    return out;
}

} // namespace emloc::core
