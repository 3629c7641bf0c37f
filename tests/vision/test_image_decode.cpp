// The image decoders on good and bad files made here with the same libraries' encoders: every format
// and colour type read, and every bad file (empty, not an image, truncated, CMYK, 16-bit, animated,
// a decompression bomb) refused with a message that names it and says what to do. InternVL's grid
// choice on hand-worked cases, and the normalisation's arithmetic.
#include "emloc/api/error.h"
#include "emloc/vision/internvl_tiles.h"

#include "unit_test.h"

#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include <cstring>

using namespace emloc::core;
using namespace emloc::test;

namespace {

RgbImage pattern(int64_t width, int64_t height)
{
    RgbImage image;
    image.width = width;
    image.height = height;
    for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c)
                image.pixels.push_back(uint8_t((x * 4 + y * 2 + c * 60) % 256)); // smooth: JPEG keeps it
    return image;
}

std::string pngOf(const void *pixels, int64_t width, int64_t height, png_uint_32 format)
{
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = png_uint_32(width);
    png.height = png_uint_32(height);
    png.format = format;
    png_alloc_size_t size = 0;
    VERIFY(png_image_write_get_memory_size(png, size, 0, pixels, 0, nullptr));
    std::string bytes(size, '\0');
    VERIFY(png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels, 0, nullptr));
    bytes.resize(size);
    return bytes;
}

std::string jpegOf(const RgbImage &image, int pixelFormat = TJPF_RGB, int subsampling = TJSAMP_420)
{
    tjhandle handle = tjInitCompress();
    unsigned char *out = nullptr;
    unsigned long size = 0;
    std::vector<uint8_t> source = image.pixels;
    if (pixelFormat == TJPF_CMYK) { // four channels: C, M, Y from RGB and K = 0
        source.clear();
        for (size_t i = 0; i < image.pixels.size(); i += 3)
            source.insert(source.end(), {image.pixels[i], image.pixels[i + 1], image.pixels[i + 2], 0});
    }
    const int ok = tjCompress2(handle, source.data(), int(image.width), 0, int(image.height), pixelFormat,
                               &out, &size, subsampling, 90, 0);
    std::string bytes = ok == 0 ? std::string(reinterpret_cast<char *>(out), size) : std::string();
    tjFree(out);
    tjDestroy(handle);
    VERIFY2(ok == 0, "the test's JPEG encoder failed");
    return bytes;
}

uint32_t crc32Of(const std::string &bytes)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char byte : bytes) {
        crc ^= byte;
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

std::string bigEndian(uint32_t value)
{
    return {char(value >> 24), char(value >> 16), char(value >> 8), char(value)};
}

std::string chunk(const std::string &type, const std::string &data)
{
    return bigEndian(uint32_t(data.size())) + type + data + bigEndian(crc32Of(type + data));
}

// Asserts that decoding `bytes` fails with a message holding every one of `parts`.
void expectRefusal(const std::string &bytes, const std::vector<std::string> &parts,
                   const ImageLimits &limits = {})
{
    try {
        decodeImage(bytes, "holiday.png", limits);
    } catch (const Error &error) {
        for (const auto &part : parts)
            VERIFY2(contains(error.what(), part), std::string(error.what()) + " (expected: " + part + ")");
        VERIFY2(contains(error.what(), "holiday.png"), error.what());
        return;
    }
    FAIL("decoded what should have been refused");
}

} // namespace

TEST_CASE(readsEveryColourTypeAndFormat)
{
    const RgbImage rgb = pattern(13, 7);
    // PNG: RGB, RGBA (alpha dropped, not blended), grey (replicated).
    RgbImage got = decodeImage(pngOf(rgb.pixels.data(), 13, 7, PNG_FORMAT_RGB), "a.png");
    COMPARE(got.width, int64_t(13));
    COMPARE(got.height, int64_t(7));
    VERIFY(got.pixels == rgb.pixels);
    std::vector<uint8_t> rgba;
    for (size_t i = 0; i < rgb.pixels.size(); i += 3)
        rgba.insert(rgba.end(), {rgb.pixels[i], rgb.pixels[i + 1], rgb.pixels[i + 2], uint8_t(i % 256)});
    VERIFY(decodeImage(pngOf(rgba.data(), 13, 7, PNG_FORMAT_RGBA), "b.png").pixels == rgb.pixels);
    std::vector<uint8_t> grey(13 * 7);
    for (size_t i = 0; i < grey.size(); ++i)
        grey[i] = uint8_t(i * 3);
    got = decodeImage(pngOf(grey.data(), 13, 7, PNG_FORMAT_GRAY), "c.png");
    for (size_t i = 0; i < grey.size(); ++i)
        VERIFY(got.pixels[i * 3] == grey[i] && got.pixels[i * 3 + 1] == grey[i] &&
               got.pixels[i * 3 + 2] == grey[i]);
    // JPEG (lossy: close), 4:4:4 and 4:2:0; WebP lossless (exact).
    for (int subsampling : {TJSAMP_444, TJSAMP_420}) {
        Row row(subsampling == TJSAMP_444 ? "jpeg 4:4:4" : "jpeg 4:2:0");
        got = decodeImage(jpegOf(rgb, TJPF_RGB, subsampling), "d.jpg");
        COMPARE(got.width, int64_t(13));
        int worst = 0;
        for (size_t i = 0; i < rgb.pixels.size(); ++i)
            worst = std::max(worst, std::abs(int(got.pixels[i]) - int(rgb.pixels[i])));
        VERIFY2(worst <= 8, str("max difference ", worst)); // a smooth pattern at quality 90
    }
    uint8_t *webp = nullptr;
    const size_t webpSize = WebPEncodeLosslessRGB(rgb.pixels.data(), 13, 7, 13 * 3, &webp);
    VERIFY(webpSize > 0);
    got = decodeImage(std::string(reinterpret_cast<char *>(webp), webpSize), "e.webp");
    WebPFree(webp);
    VERIFY(got.pixels == rgb.pixels);
}

TEST_CASE(badFilesAreRefusedByName)
{
    const RgbImage rgb = pattern(20, 20);
    const std::string png = pngOf(rgb.pixels.data(), 20, 20, PNG_FORMAT_RGB);
    expectRefusal("", {"empty"});
    expectRefusal("name,price\nsoap,3\n", {"not a JPEG, PNG or WebP"});
    expectRefusal(png.substr(0, png.size() / 2), {"truncated or corrupt", "export it again"});
    const std::string jpeg = jpegOf(rgb);
    expectRefusal(jpeg.substr(0, jpeg.size() * 2 / 3), {"truncated or corrupt"});
    expectRefusal(jpegOf(rgb, TJPF_CMYK), {"CMYK", "RGB"});
    std::vector<uint16_t> wide(20 * 20 * 3, 4000);
    expectRefusal(pngOf(wide.data(), 20, 20, PNG_FORMAT_RGB | PNG_FORMAT_FLAG_LINEAR), {"16-bit", "8 bits"});
    // An animation control chunk before the image data makes an APNG.
    const std::string animated =
        png.substr(0, 33) + chunk("acTL", bigEndian(2) + bigEndian(0)) + png.substr(33);
    expectRefusal(animated, {"animated PNG", "still image"});
    // A header that claims 100000 x 100000 pixels: refused before anything is decoded.
    std::string bomb = png;
    const std::string header = bigEndian(100000) + bigEndian(100000) + png.substr(24, 5);
    bomb.replace(8, 25, chunk("IHDR", header));
    expectRefusal(bomb, {"100000 x 100000", "decompression bomb"});
    ImageLimits small;
    small.maxPixels = 399;
    expectRefusal(png, {"20 x 20", "scale it down"}, small);
    small = {};
    small.maxFileBytes = 10;
    expectRefusal(png, {"more than the 10 bytes"}, small);
}

// Cameras often leave stray bytes before a marker: libjpeg warns, Pillow reads the image, and so do we.
TEST_CASE(strayBytesBeforeAMarkerAreAccepted)
{
    const RgbImage rgb = pattern(24, 16);
    const std::string jpeg = jpegOf(rgb);
    VERIFY(jpeg.size() > 2 && jpeg.compare(jpeg.size() - 2, 2, "\xFF\xD9") == 0);
    const std::string stray = jpeg.substr(0, jpeg.size() - 2) + std::string("\x01\x02\x03", 3) + "\xFF\xD9";
    VERIFY(decodeImage(stray, "camera.jpg").pixels == decodeImage(jpeg, "camera.jpg").pixels);
}

TEST_CASE(readImageFileNamesThePath)
{
    TempDir dir;
    const std::string path = dir.filePath("scan.png");
    writeFile(path, "not an image at all");
    try {
        readImageFile(path);
        FAIL("read a file that is no image");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), path), error.what());
    }
    VERIFY_THROWS(Error, readImageFile(dir.filePath("missing.jpg")));
}

TEST_CASE(gridsFollowInternVLsRule)
{
    TilingSettings s;
    s.tileSize = 448;
    COMPARE(tileGrid(800, 600, s), (std::pair<int64_t, int64_t>{4, 3}));   // 4:3 exactly, 12 tiles
    COMPARE(tileGrid(1000, 1000, s), (std::pair<int64_t, int64_t>{3, 3})); // square, fills > half of 3 x 3
    COMPARE(tileGrid(300, 300, s), (std::pair<int64_t, int64_t>{1, 1}));   // square, too small for 2 x 2
    COMPARE(tileGrid(448 * 12, 448, s), (std::pair<int64_t, int64_t>{12, 1}));
    COMPARE(tileGrid(100, 5000, s), (std::pair<int64_t, int64_t>{1, 12})); // as tall as the limit allows
    COMPARE(tileGrid(700, 700, s),
            (std::pair<int64_t, int64_t>{2, 2})); // fills > half of 2 x 2, not of 3 x 3
    s.maxTiles = 6;
    COMPARE(tileGrid(800, 600, s), (std::pair<int64_t, int64_t>{3, 2})); // 4:3 unreachable: 3:2 is closest
    s.maxTiles = 2;
    COMPARE(tileGrid(800, 600, s), (std::pair<int64_t, int64_t>{1, 1}));
    s.maxTiles = 6;
    s.minTiles = 4;
    COMPARE(tileGrid(500, 500, s), (std::pair<int64_t, int64_t>{2, 2}));
}

TEST_CASE(tilesAndNormalisation)
{
    TilingSettings s;
    s.tileSize = 8;
    s.mean = {0.5f, 0.25f, 0.0f};
    s.std = {0.5f, 0.25f, 1.0f};
    const RgbImage image = pattern(16, 8); // 2 x 1 tiles, then the thumbnail
    const auto tiles = tileImage(image, s);
    COMPARE(tiles.size(), size_t(3));
    // No resize is needed for a 16 x 8 image and a 2 x 1 grid: the tiles are its halves.
    VERIFY(tiles[0].pixels == cropImage(image, 0, 0, 8, 8).pixels);
    VERIFY(tiles[1].pixels == cropImage(image, 8, 0, 8, 8).pixels);
    const torch::Tensor values = pixelValues(tiles, s);
    COMPARE(values.sizes().vec(), (std::vector<int64_t>{3, 3, 8, 8}));
    const float first = float(tiles[0].pixels[0]) / 255.0f;
    COMPARE(values[0][0][0][0].item<float>(), (first - 0.5f) / 0.5f);
    s.thumbnail = false;
    COMPARE(tileImage(image, s).size(), size_t(2));
    VERIFY_THROWS(Error, cropImage(image, 10, 0, 8, 8));
    VERIFY_THROWS(Error, resizeBicubic(image, 0, 4));
}

TEST_CASE(settingsComeFromTheCheckpoint)
{
    TempDir dir;
    writeFile(
        dir.filePath("config.json"),
        R"({"force_image_size": 448, "max_dynamic_patch": 6, "min_dynamic_patch": 1, "use_thumbnail": true})");
    writeFile(dir.filePath("preprocessor_config.json"),
              R"({"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]})");
    TilingSettings s = tilingSettingsFromFolder(dir.path());
    COMPARE(s.tileSize, int64_t(448));
    COMPARE(s.maxTiles, int64_t(6));
    COMPARE(s.mean[1], 0.456f);
    COMPARE(s.std[2], 0.225f);
    // No statistics in the preprocessor config: refused, naming the file and the key.
    writeFile(dir.filePath("preprocessor_config.json"), R"({"image_mean": [0.5, 0.5, 0.5]})");
    try {
        tilingSettingsFromFolder(dir.path());
        FAIL("assumed a standard deviation");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "preprocessor_config.json") && contains(error.what(), "image_std"),
                error.what());
    }
    writeFile(dir.filePath("preprocessor_config.json"),
              R"({"image_mean": [0.5, 0.5], "image_std": [1, 1, 1]})");
    VERIFY_THROWS(Error, tilingSettingsFromFolder(dir.path()));
    writeFile(dir.filePath("config.json"),
              R"({"vision_config": {"image_size": 224}, "dynamic_image_size": false})");
    writeFile(dir.filePath("preprocessor_config.json"),
              R"({"image_mean": [0, 0, 0], "image_std": [1, 1, 1]})");
    s = tilingSettingsFromFolder(dir.path());
    COMPARE(s.tileSize, int64_t(224));
    COMPARE(s.maxTiles, int64_t(1));
}
