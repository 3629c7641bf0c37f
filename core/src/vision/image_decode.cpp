// JPEG (libturbojpeg), PNG (libpng's simplified API) and WebP (libwebp) to 8-bit RGB. All three report
// errors by return value, so no longjmp crosses C++ frames. Each reads the dimensions from the header
// first and refuses a decompression bomb before allocating anything.
#include "emloc/vision/rgb_image.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"

#include <png.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <cstring>
#include <memory>

namespace emloc::core {

namespace {

bool startsWith(const std::string &bytes, const char *magic, size_t length, size_t offset = 0)
{
    return bytes.size() >= offset + length && std::memcmp(bytes.data() + offset, magic, length) == 0;
}

void checkDimensions(int64_t width, int64_t height, const std::string &name, const ImageLimits &limits)
{
    if (width <= 0 || height <= 0)
        throw Error(name + ": the image is empty (" + std::to_string(width) + " x " + std::to_string(height) +
                    " pixels)");
    if (width * height > limits.maxPixels)
        throw Error(name + ": the image has " + std::to_string(width) + " x " + std::to_string(height) +
                    " pixels, more than the " + std::to_string(limits.maxPixels) +
                    " this tool decodes (it could be a decompression bomb); scale it down first");
}

std::string sizeText(int64_t bytes)
{
    return bytes < (int64_t(1) << 20) ? std::to_string(bytes) + " bytes"
                                      : std::to_string(bytes >> 20) + " MiB";
}

void checkFileSize(int64_t bytes, const std::string &name, const ImageLimits &limits)
{
    if (bytes > limits.maxFileBytes)
        throw Error(name + ": " + sizeText(bytes) + ", more than the " + sizeText(limits.maxFileBytes) +
                    " an image may have here; scale it down or save it compressed");
}

RgbImage blank(int64_t width, int64_t height)
{
    RgbImage image;
    image.width = width;
    image.height = height;
    image.pixels.resize(size_t(width * height * 3));
    return image;
}

RgbImage decodeJpeg(const std::string &bytes, const std::string &name, const ImageLimits &limits)
{
    std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
    if (!handle)
        throw Error(name + ": cannot start the JPEG decoder: " + tjGetErrorStr2(nullptr));
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
    if (tjDecompressHeader3(handle.get(), data, static_cast<unsigned long>(bytes.size()), &width, &height,
                            &subsampling, &colorspace) != 0)
        throw Error(name + ": the JPEG is truncated or corrupt (" + tjGetErrorStr2(handle.get()) +
                    "); export it again");
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
        throw Error(name + ": a CMYK JPEG (print colours), which vision models are not trained on; save it "
                           "as an RGB JPEG or PNG first");
    checkDimensions(width, height, name, limits);
    RgbImage image = blank(width, height);
    // The decoder's defaults (accurate integer DCT, smooth chroma upsampling) are libjpeg's, which Pillow
    // uses. Warnings are accepted as Pillow accepts them (cameras often leave stray bytes before a
    // marker), except the one for missing data: Pillow refuses truncated files, and so do we.
    if (tjDecompress2(handle.get(), data, static_cast<unsigned long>(bytes.size()), image.pixels.data(),
                      width, 0, height, TJPF_RGB, 0) != 0) {
        const std::string message = tjGetErrorStr2(handle.get());
        if (tjGetErrorCode(handle.get()) != TJERR_WARNING ||
            message.find("Premature end") != std::string::npos)
            throw Error(name + ": the JPEG is truncated or corrupt (" + message + "); export it again");
    }
    return image;
}

// An APNG's acTL chunk precedes its first IDAT; libpng ignores it and would decode the first frame only.
bool isAnimatedPng(const std::string &bytes)
{
    size_t at = 8;
    while (at + 8 <= bytes.size()) {
        const auto *p = reinterpret_cast<const unsigned char *>(bytes.data() + at);
        const uint64_t length =
            (uint64_t(p[0]) << 24) | (uint64_t(p[1]) << 16) | (uint64_t(p[2]) << 8) | p[3];
        const std::string type(bytes.data() + at + 4, 4);
        if (type == "acTL")
            return true;
        if (type == "IDAT" || type == "IEND")
            return false;
        at += 12 + length;
    }
    return false;
}

RgbImage decodePng(const std::string &bytes, const std::string &name, const ImageLimits &limits)
{
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
        throw Error(name + ": the PNG is truncated or corrupt (" + png.message + "); export it again");
    std::unique_ptr<png_image, void (*)(png_imagep)> release(&png, png_image_free);
    if (png.format & PNG_FORMAT_FLAG_LINEAR)
        throw Error(name + ": a 16-bit PNG; save it with 8 bits per channel first (e.g. `convert " + name +
                    " -depth 8 out.png`)");
    if (isAnimatedPng(bytes))
        throw Error(name + ": an animated PNG; save the frame you mean as a still image first");
    checkDimensions(png.width, png.height, name, limits);
    // RGBA, then alpha dropped: convert("RGB") drops it rather than blending it with a background.
    png.format = PNG_FORMAT_RGBA;
    std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr))
        throw Error(name + ": the PNG is truncated or corrupt (" + png.message + "); export it again");
    RgbImage image = blank(png.width, png.height);
    for (size_t i = 0, n = size_t(image.width * image.height); i < n; ++i)
        std::memcpy(&image.pixels[i * 3], &rgba[i * 4], 3);
    return image;
}

RgbImage decodeWebp(const std::string &bytes, const std::string &name, const ImageLimits &limits)
{
    const auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
    WebPBitstreamFeatures features;
    if (WebPGetFeatures(data, bytes.size(), &features) != VP8_STATUS_OK)
        throw Error(name + ": the WebP image is truncated or corrupt; export it again");
    if (features.has_animation)
        throw Error(name + ": an animated WebP; save the frame you mean as a still image first");
    checkDimensions(features.width, features.height, name, limits);
    RgbImage image = blank(features.width, features.height);
    const size_t stride = size_t(image.width) * 3;
    if (!WebPDecodeRGBInto(data, bytes.size(), image.pixels.data(), image.pixels.size(), int(stride)))
        throw Error(name + ": the WebP image is truncated or corrupt; export it again");
    return image;
}

} // namespace

RgbImage decodeImage(const std::string &bytes, const std::string &name, const ImageLimits &limits)
{
    if (bytes.empty())
        throw Error(name + ": the file is empty");
    checkFileSize(int64_t(bytes.size()), name, limits);
    if (startsWith(bytes, "\xFF\xD8\xFF", 3))
        return decodeJpeg(bytes, name, limits);
    if (startsWith(bytes, "\x89PNG\r\n\x1A\n", 8))
        return decodePng(bytes, name, limits);
    if (startsWith(bytes, "RIFF", 4) && startsWith(bytes, "WEBP", 4, 8))
        return decodeWebp(bytes, name, limits);
    throw Error(name + ": not a JPEG, PNG or WebP image (those are the formats read; convert it to one)");
}

RgbImage readImageFile(const std::string &path, const ImageLimits &limits)
{
    struct stat fileStat
    {};
    if (::stat(path.c_str(), &fileStat) == 0 && S_ISREG(fileStat.st_mode)) // before reading it whole
        checkFileSize(fileStat.st_size, path, limits);
    return decodeImage(readTextFile(path), path, limits);
}

} // namespace emloc::core
