// libFuzzer target: tokenizer_config.json's Jinja chat template (parse, then render a conversation), the
// one piece of a downloaded model that is a program.
#include "fuzz_support.h"

#include "emloc/text/chat_template.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string source(reinterpret_cast<const char *>(data), size);
    emloc::fuzz::expectOnlyErrors([&] {
        const auto chat = emloc::core::ChatTemplate::fromJinja(source, "<s>", "</s>");
        const std::vector<emloc::core::ChatMessage> messages = {
            {"system", "Be brief."}, {"user", "Hi {{ there }}"}, {"assistant", "Hello."}, {"user", "Again?"}};
        (void)chat.render(messages, true);
    });
    return 0;
}
