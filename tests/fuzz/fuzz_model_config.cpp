// libFuzzer target: the config.json loader (architecture, shapes, RoPE scaling, tied embeddings).
#include "fuzz_support.h"

#include "emloc/io/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = emloc::fuzz::scratchFile(data, size, "-config.json");
    emloc::fuzz::expectOnlyErrors([&] {
        const emloc::core::ModelConfig config = emloc::core::loadModelConfig(path);
        (void)emloc::core::modelConfigToJson(config);
    });
    return 0;
}
