// libFuzzer target: the tokenizer.json loader, then a round trip of a text mixing scripts, bytes and
// special-looking markers through the tokenizer it built.
#include "fuzz_support.h"

#include "emloc/text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = emloc::fuzz::scratchFile(data, size, "-tokenizer.json");
    emloc::fuzz::expectOnlyErrors([&] {
        const auto tokenizer = emloc::core::Tokenizer::fromFile(path);
        const auto ids = tokenizer->encode("Hello, world! 你好 ⟨x⟩ <|im_start|>user\n\t 123 \xff", true);
        (void)tokenizer->decode(ids, true);
        (void)tokenizer->vocabSize();
    });
    return 0;
}
