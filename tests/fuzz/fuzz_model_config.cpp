// libFuzzer target: the config.json readers (architecture, shapes, RoPE scaling, tied embeddings; and
// InternVL's vision-language configs in both layouts).
#include "fuzz_support.h"

#include "emloc/io/model_config.h"
#include "emloc/vision/internvl_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = emloc::fuzz::scratchFile(data, size, "-config.json");
    emloc::fuzz::expectOnlyErrors([&] {
        const emloc::core::ModelConfig config = emloc::core::loadModelConfig(path);
        (void)emloc::core::modelConfigToJson(config);
    });
    const nlohmann::json json = nlohmann::json::parse(reinterpret_cast<const char *>(data),
                                                      reinterpret_cast<const char *>(data) + size, nullptr,
                                                      /*allow_exceptions=*/false);
    if (emloc::core::isVisionLanguageConfig(json))
        emloc::fuzz::expectOnlyErrors([&] {
            const emloc::core::InternVLConfig config = emloc::core::parseInternVLConfig(json, path);
            (void)config.tokensPerTile(448);
        });
    return 0;
}
