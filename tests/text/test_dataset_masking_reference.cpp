// Token ids and assistant masks of a multi-turn dataset with SmolLM2's real tokenizer and chat template,
// against transformers (apply_chat_template + offset mapping, see
// tests/reference/dataset_masking_reference.py).
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/dataset_tokenize.h"

#include "child_process.h"
#include "unit_test.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace emloc::core;

TEST_CASE(smolLm2MasksMatchTransformers)
{
    emloc::test::TempDir dir;
    const std::string data = emloc::test::testDataDir() + "/datasets/chat_multiturn.jsonl";
    auto python = emloc::test::runPythonScript("dataset_masking_reference.py",
                                               {emloc::test::demoGgufPath(), data, dir.path()});
    VERIFY2(python.exitCode == 0, python.err);
    nlohmann::json expected = nlohmann::json::parse(std::ifstream(dir.filePath("expected.json")));

    auto tokenizer = Tokenizer::fromFile(dir.filePath("tokenizer.json"));
    ChatTemplate chatTemplate =
        ChatTemplate::fromJinja(expected["chat_template"], expected["bos_token"], expected["eos_token"]);
    auto records = readDataset(data);
    COMPARE(records.size(), expected["records"].size());
    TokenizeOptions options;
    options.maxLength = 0;
    int64_t tokens = 0, trained = 0;
    for (size_t i = 0; i < records.size(); ++i) {
        const auto &reference = expected["records"][i];
        auto messages = conversationFor(records[i], chatTemplate, "");
        COMPARE(chatTemplate.render(messages, false), reference["text"].get<std::string>());
        TokenizeResult result = tokenizeRecord(records[i], chatTemplate, *tokenizer, options);
        VERIFY(result.ok);
        COMPARE(result.example.inputIds, reference["input_ids"].get<std::vector<int64_t>>());
        COMPARE(result.example.labels, reference["labels"].get<std::vector<int64_t>>());
        tokens += static_cast<int64_t>(result.example.inputIds.size());
        for (int64_t label : result.example.labels)
            trained += label != kIgnoreLabel ? 1 : 0;
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "%zu conversations, %lld tokens, %lld trained: ids and labels equal transformers'",
                  records.size(), static_cast<long long>(tokens), static_cast<long long>(trained));
    emloc::test::info(line);
}
