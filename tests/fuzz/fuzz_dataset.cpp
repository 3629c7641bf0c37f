// libFuzzer target: the dataset readers. The first input byte picks the file type the extension
// announces (JSON Lines, a JSON array, plain text, CSV, TSV); the records are then rendered with a built-in
// chat template, as training would.
#include "fuzz_support.h"

#include "emloc/text/dataset_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const kSuffixes[] = {".jsonl", ".json", ".txt", ".csv", ".tsv"};
    const std::string path = emloc::fuzz::scratchFile(data + 1, size - 1, kSuffixes[data[0] % 5]);
    emloc::fuzz::expectOnlyErrors([&] {
        emloc::core::DatasetReadOptions options;
        const auto records = emloc::core::readDataset(path, options);
        const auto chat =
            emloc::core::ChatTemplate::builtin(emloc::core::TemplateKind::ChatML, "<s>", "</s>");
        for (const auto &record : records)
            if (!record.messages.empty())
                (void)chat.render(record.messages, false);
    });
    return 0;
}
