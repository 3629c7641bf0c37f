#pragma once
// Images as the vision tower receives them: decoded to 8-bit RGB from JPEG, PNG or WebP, cropped and
// resampled exactly as Pillow does (the reference preprocessing of every InternVL checkpoint runs on
// Pillow), so that our tiles equal the reference's pixel for pixel.

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

struct RgbImage
{
    int64_t width = 0;
    int64_t height = 0;
    std::vector<uint8_t> pixels; // row-major, 3 bytes a pixel

    const uint8_t *row(int64_t y) const { return pixels.data() + y * width * 3; }
};

// What a decoder accepts. A file's dimensions are read from its header and refused above `maxPixels`
// before anything is decoded (a decompression bomb: a few kB that decode to gigabytes). The default is
// Pillow's own limit, above which it refuses too.
struct ImageLimits
{
    int64_t maxPixels = 178956970; // 2 x Pillow's MAX_IMAGE_PIXELS, where Pillow raises instead of warning
    int64_t maxFileBytes = int64_t(256) << 20;
};

// Decodes a JPEG, PNG or WebP file (told apart by content, not name) to RGB. Alpha is dropped, as
// Pillow's convert("RGB") drops it; grey and palette images become RGB. Refused with a message naming
// `path` and saying what to do: truncated or corrupt data, a zero or oversized image, CMYK JPEG, 16-bit
// PNG, animated PNG or WebP, any other format.
RgbImage readImageFile(const std::string &path, const ImageLimits &limits = {});
// The same from bytes in memory; `name` is what messages call them (a file, a record).
RgbImage decodeImage(const std::string &bytes, const std::string &name, const ImageLimits &limits = {});

// Pillow's Image.resize(size, BICUBIC) to the letter (Pillow 13, the pinned reference): separable
// convolution with a = -0.5, support widened by the scale when shrinking (antialiasing), fixed-point
// coefficients, the first pass rounded to 8 bits before the second, and Pillow's choice of which pass
// comes first.
RgbImage resizeBicubic(const RgbImage &image, int64_t width, int64_t height);

// The rectangle [left, left + width) x [top, top + height), which must lie inside the image.
RgbImage cropImage(const RgbImage &image, int64_t left, int64_t top, int64_t width, int64_t height);

} // namespace emloc::core
