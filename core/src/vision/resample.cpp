// Pillow's bicubic resize, reproduced exactly because a vision tower is trained on the pixels Pillow
// makes: one rounding of a coefficient or of the intermediate row changes tiles by a grey level.
#include "emloc/vision/rgb_image.h"

#include "emloc/api/error.h"

#include <algorithm>
#include <cmath>

namespace emloc::core {

namespace {

// 8 bits of result; two more for the overflow of a filter with negative lobes.
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x)
{
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// For each output index: the first input index it reads and its fixed-point weights.
struct Taps
{
    std::vector<int> first;
    std::vector<std::vector<int32_t>> weights;
};

Taps taps(int64_t inSize, int64_t outSize)
{
    const double scale = double(float(inSize)) / double(outSize);
    const double filterScale = std::max(scale, 1.0);
    const double support = 2.0 * filterScale;
    const double inverseScale = 1.0 / filterScale; // multiplied, not divided: the same last bit as Pillow
    Taps result;
    result.first.resize(size_t(outSize));
    result.weights.resize(size_t(outSize));
    for (int64_t out = 0; out < outSize; ++out) {
        const double center = (double(out) + 0.5) * scale;
        // Truncation toward zero, as the C cast rounds the bounds.
        const int begin = std::max(0, int(center - support + 0.5));
        const int end = std::min(int(inSize), int(center + support + 0.5));
        std::vector<double> w;
        double sum = 0;
        for (int x = begin; x < end; ++x) {
            w.push_back(bicubic((x - center + 0.5) * inverseScale));
            sum += w.back();
        }
        auto &fixed = result.weights[size_t(out)];
        for (double value : w) {
            const double normal = sum != 0.0 ? value / sum : value;
            const double scaled = normal * double(1 << kPrecisionBits);
            fixed.push_back(int32_t(normal < 0 ? -0.5 + scaled : 0.5 + scaled));
        }
        result.first[size_t(out)] = begin;
    }
    return result;
}

uint8_t clip8(int32_t sum)
{
    return uint8_t(std::clamp(sum >> kPrecisionBits, 0, 255));
}

RgbImage resizeRows(const RgbImage &in, int64_t width) // horizontal pass
{
    const Taps t = taps(in.width, width);
    RgbImage out;
    out.width = width;
    out.height = in.height;
    out.pixels.resize(size_t(width * in.height * 3));
    for (int64_t y = 0; y < in.height; ++y) {
        const uint8_t *src = in.row(y);
        uint8_t *dst = out.pixels.data() + y * width * 3;
        for (int64_t x = 0; x < width; ++x) {
            const auto &w = t.weights[size_t(x)];
            const uint8_t *first = src + int64_t(t.first[size_t(x)]) * 3;
            for (int c = 0; c < 3; ++c) {
                int32_t sum = 1 << (kPrecisionBits - 1);
                for (size_t k = 0; k < w.size(); ++k)
                    sum += int32_t(first[k * 3 + size_t(c)]) * w[k];
                dst[x * 3 + c] = clip8(sum);
            }
        }
    }
    return out;
}

RgbImage resizeColumns(const RgbImage &in, int64_t height) // vertical pass
{
    const Taps t = taps(in.height, height);
    RgbImage out;
    out.width = in.width;
    out.height = height;
    out.pixels.resize(size_t(in.width * height * 3));
    const int64_t rowBytes = in.width * 3;
    for (int64_t y = 0; y < height; ++y) {
        const auto &w = t.weights[size_t(y)];
        const uint8_t *first = in.row(t.first[size_t(y)]);
        uint8_t *dst = out.pixels.data() + y * rowBytes;
        for (int64_t i = 0; i < rowBytes; ++i) {
            int32_t sum = 1 << (kPrecisionBits - 1);
            for (size_t k = 0; k < w.size(); ++k)
                sum += int32_t(first[int64_t(k) * rowBytes + i]) * w[k];
            dst[i] = clip8(sum);
        }
    }
    return out;
}

} // namespace

RgbImage resizeBicubic(const RgbImage &image, int64_t width, int64_t height)
{
    if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0)
        throw Error("resizeBicubic: an empty image or size (" + std::to_string(image.width) + " x " +
                    std::to_string(image.height) + " to " + std::to_string(width) + " x " +
                    std::to_string(height) + ")");
    // Pillow returns a copy when the size is unchanged and otherwise runs only the passes a changed
    // dimension needs. Since Pillow 13 the vertical pass comes first when the height shrinks by more
    // than twice as many pixels as the width does (cheaper; each order rounds its intermediate image
    // differently, so the order is part of the result).
    if (height < image.height && image.height - height > 2 * (image.width - width)) {
        RgbImage result = resizeColumns(image, height);
        return width == image.width ? result : resizeRows(result, width);
    }
    RgbImage result = width == image.width ? image : resizeRows(image, width);
    return height == image.height ? result : resizeColumns(result, height);
}

RgbImage cropImage(const RgbImage &image, int64_t left, int64_t top, int64_t width, int64_t height)
{
    if (left < 0 || top < 0 || width <= 0 || height <= 0 || left + width > image.width ||
        top + height > image.height)
        throw Error("cropImage: the rectangle (" + std::to_string(left) + ", " + std::to_string(top) + ") " +
                    std::to_string(width) + " x " + std::to_string(height) + " is outside the " +
                    std::to_string(image.width) + " x " + std::to_string(image.height) + " image");
    RgbImage out;
    out.width = width;
    out.height = height;
    out.pixels.resize(size_t(width * height * 3));
    for (int64_t y = 0; y < height; ++y)
        std::copy_n(image.row(top + y) + left * 3, width * 3, out.pixels.data() + y * width * 3);
    return out;
}

} // namespace emloc::core
