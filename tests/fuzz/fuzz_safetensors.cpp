// libFuzzer target: SafetensorsFile, strict validation on open, then every tensor read back.
#include "fuzz_support.h"

#include "emloc/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = emloc::fuzz::scratchFile(data, size, ".safetensors");
    emloc::fuzz::expectOnlyErrors([&] {
        emloc::core::SafetensorsFile file(path);
        for (const auto &name : file.names())
            (void)file.tensor(name).sum();
    });
    return 0;
}
