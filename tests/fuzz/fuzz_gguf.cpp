// libFuzzer target: GgufFile, strict validation on open, metadata getters, every tensor dequantised.
#include "fuzz_support.h"

#include "emloc/io/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = emloc::fuzz::scratchFile(data, size, ".gguf");
    emloc::fuzz::expectOnlyErrors([&] {
        emloc::core::GgufFile file(path);
        (void)file.stringOr("general.architecture", "");
        (void)file.integerOr("llama.block_count", 0);
        for (const auto &info : file.tensors())
            (void)file.tensor(info.name).sum();
    });
    return 0;
}
