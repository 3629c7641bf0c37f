// Our decoding, resampling and InternVL tiling against Pillow's (tests/reference/vision_reference.py):
// the same pixels from PNG, JPEG and WebP files, the same bicubic resize in every direction, the same
// grids and the same normalised tiles, to the bit.
#include "emloc/vision/internvl_tiles.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <cstring>

using namespace emloc::core;
using namespace emloc::test;

namespace {

std::unique_ptr<TempDir> g_dir;
nlohmann::json g_manifest;

std::string fixture(const std::string &name)
{
    return g_dir->filePath(name);
}

// The largest difference between two byte buffers of one size, or 256 when the sizes differ.
int maxByteDifference(const std::vector<uint8_t> &ours, const std::string &theirs)
{
    if (ours.size() != theirs.size())
        return 256;
    int worst = 0;
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, std::abs(int(ours[i]) - int(uint8_t(theirs[i]))));
    return worst;
}

} // namespace

SUITE_SETUP()
{
    g_dir = std::make_unique<TempDir>();
    const ProcessResult made = runPythonScript("vision_reference.py", {g_dir->path()});
    VERIFY2(made.exitCode == 0, describe(made));
    g_manifest = readJsonFile(fixture("manifest.json"));
}

TEST_CASE(decodesAsPillowDoes)
{
    for (const auto &c : arrayOf(member(g_manifest, "cases"))) {
        const std::string file = stringOf(member(c, "file"));
        Row row(file);
        const RgbImage image = readImageFile(fixture(file));
        COMPARE(image.width, integerOf(member(c, "width")));
        COMPARE(image.height, integerOf(member(c, "height")));
        // Pillow bundles its own libjpeg-turbo and libwebp; the decoders are the same algorithms, so
        // every file, lossy ones included, must decode to the same bytes.
        COMPARE(maxByteDifference(image.pixels, readFile(fixture(file + ".rgb"))), 0);
    }
}

TEST_CASE(resizesAsPillowDoes)
{
    const RgbImage source = readImageFile(fixture(stringOf(member(g_manifest, "resize_source"))));
    for (const auto &r : arrayOf(member(g_manifest, "resizes"))) {
        const std::string file = stringOf(member(r, "file"));
        Row row(file);
        const RgbImage resized =
            resizeBicubic(source, integerOf(member(r, "width")), integerOf(member(r, "height")));
        COMPARE(maxByteDifference(resized.pixels, readFile(fixture(file))), 0);
    }
}

TEST_CASE(tilesAsInternVLDoes)
{
    const auto triple = [](const nlohmann::json &values) {
        return std::array<float, 3>{float(numberOf(values[0])), float(numberOf(values[1])),
                                    float(numberOf(values[2]))};
    };
    for (const auto &c : arrayOf(member(g_manifest, "cases"))) {
        const std::string file = stringOf(member(c, "file"));
        Row row(file);
        TilingSettings settings;
        settings.tileSize = integerOf(member(c, "tile"));
        settings.minTiles = integerOf(member(c, "min_tiles"));
        settings.maxTiles = integerOf(member(c, "max_tiles"));
        settings.thumbnail = flagOf(member(c, "thumbnail"));
        settings.mean = triple(member(g_manifest, "mean"));
        settings.std = triple(member(g_manifest, "std"));
        const RgbImage image = readImageFile(fixture(file));
        const auto grid = tileGrid(image.width, image.height, settings);
        COMPARE(grid.first, integerOf(member(c, "grid")[0]));
        COMPARE(grid.second, integerOf(member(c, "grid")[1]));
        const torch::Tensor ours = pixelValues(tileImage(image, settings), settings);
        COMPARE(ours.size(0), integerOf(member(c, "tiles")));
        const std::string raw = readFile(fixture(file + ".tiles"));
        VERIFY(raw.size() == size_t(ours.numel()) * sizeof(float));
        torch::Tensor theirs = torch::empty_like(ours);
        std::memcpy(theirs.data_ptr<float>(), raw.data(), raw.size());
        const double difference = (ours - theirs).abs().max().item<double>();
        VERIFY2(difference == 0.0, str("max |difference| ", difference));
    }
}
