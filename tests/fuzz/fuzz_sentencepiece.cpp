// libFuzzer target: a SentencePiece tokenizer.model read, converted and run (encode, decode), as a
// checkpoint without tokenizer.json is opened.
#include "fuzz_support.h"

#include "emloc/io/sentencepiece_tokenizer.h"
#include "emloc/text/tokenizer.h"

#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string folder = "/tmp/emloc-fuzz-" + std::to_string(getpid()) + "-spm";
    ::mkdir(folder.c_str(), 0700);
    const std::string path = emloc::fuzz::scratchFile(data, size, "-spm/tokenizer.model");
    (void)path;
    emloc::fuzz::expectOnlyErrors([&] {
        const nlohmann::json json = emloc::core::folderTokenizerJson(folder, nlohmann::json::object());
        const auto tokenizer = emloc::core::Tokenizer::fromJson(json, folder);
        const std::vector<int64_t> ids =
            tokenizer->encode("Hello  world, 123 \xe4\xbd\xa0\xe5\xa5\xbd <s>!", true);
        (void)tokenizer->decode(ids, false);
    });
    return 0;
}
