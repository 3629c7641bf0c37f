// libFuzzer target: the JPEG, PNG and WebP decoders on arbitrary bytes, then the InternVL tiling of what
// decodes. The pixel limit is lowered so that a fuzzed header cannot ask for gigabytes.
#include "fuzz_support.h"

#include "emloc/vision/internvl_tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    emloc::fuzz::expectOnlyErrors([&] {
        emloc::core::ImageLimits limits;
        limits.maxPixels = 1 << 20;
        const auto image = emloc::core::decodeImage(std::string(reinterpret_cast<const char *>(data), size),
                                                    "fuzz input", limits);
        emloc::core::TilingSettings settings;
        settings.tileSize = 16;
        settings.maxTiles = 6;
        settings.std = {1, 1, 1};
        (void)emloc::core::pixelValues(emloc::core::tileImage(image, settings), settings).sum();
    });
    return 0;
}
