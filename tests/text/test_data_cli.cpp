// `emloc data inspect` end to end with the demo model (SmolLM2 GGUF: its tokenizer and chat template).
#include "child_process.h"
#include "unit_test.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

using emloc::test::contains;
using emloc::test::runCli;

namespace {
std::string dataset(const char *name)
{
    return emloc::test::testDataDir() + "/datasets/" + name;
}
} // namespace

TEST_CASE(inspectPrintsStatisticsAsJson)
{
    auto result = runCli(
        {"data", "inspect", dataset("messages.jsonl"), "--model", emloc::test::demoGgufPath(), "--json"});
    VERIFY2(result.exitCode == 0, result.err);
    auto stats = nlohmann::json::parse(result.out);
    COMPARE(stats["records"].get<int>(), 3);
    COMPARE(stats["used"].get<int>(), 3);
    COMPARE(stats["format"].get<std::string>(), std::string("messages"));
    COMPARE(stats["template"].get<std::string>(), std::string("jinja (model)"));
    VERIFY(stats["masked_fraction"].get<double>() > 0.3 && stats["masked_fraction"].get<double>() < 1.0);
    const auto &segments = stats["example"]["segments"];
    COMPARE(segments.size(), size_t(2));
    COMPARE(segments[0]["trained"].get<bool>(), false);
    COMPARE(
        segments[0]["text"].get<std::string>(),
        std::string("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is "
                    "2+2?<|im_end|>\n<|im_start|>assistant\n"));
    COMPARE(segments[1]["text"].get<std::string>(), std::string("2+2 equals 4.<|im_end|>\n"));
    int64_t binned = 0;
    for (const auto &count : stats["histogram"]["counts"])
        binned += count.get<int64_t>();
    COMPARE(binned, int64_t(3));
}

TEST_CASE(inspectPrintsAReport)
{
    auto result = runCli({"data", "inspect", dataset("no_assistant.jsonl"), "--model",
                          emloc::test::demoGgufPath(), "--max-length", "21", "--system", "Be brief."});
    VERIFY2(result.exitCode == 0, result.err);
    const std::string out = result.out;
    // Record 1 has 23 tokens, 19 of them prompt: truncated at 21, it keeps two trained tokens.
    VERIFY2(contains(out, "Records    2 read, 1 used, 1 skipped"), out);
    VERIFY2(contains(out, "skipped, no assistant turn: 1"), out);
    VERIFY2(contains(out, "record 2 (line 2): the conversation has no assistant turn"), out);
    VERIFY2(contains(out, "Truncated  1 records longer than 21 tokens"), out);
    VERIFY2(contains(out, "Token lengths"), out);
    VERIFY2(contains(out, "|#"), out);
    // Not a terminal: trained text is bracketed. The system option took the place of SmolLM2's default.
    VERIFY2(contains(out, "<|im_start|>system\nBe brief.<|im_end|>"), out);
    VERIFY2(contains(out, "[train]"), out);
}

TEST_CASE(badInputFailsWithItsReason)
{
    emloc::test::TempDir dir;
    std::string broken = dir.filePath("broken.jsonl");
    std::ofstream(broken) << "{\"text\": \"ok\"}\n{\"text\": oops}\n";
    auto result = runCli({"data", "inspect", broken, "--model", emloc::test::demoGgufPath()});
    COMPARE(result.exitCode, 1);
    VERIFY2(contains(result.err, ":2:10: invalid JSON"), result.err);

    auto wrongFormat = runCli({"data", "inspect", dataset("messages.jsonl"), "--model",
                               emloc::test::demoGgufPath(), "--format", "text"});
    COMPARE(wrongFormat.exitCode, 1);
    VERIFY2(contains(wrongFormat.err, "record 1 (line 1): missing field \"text\" (text format)"),
            wrongFormat.err);

    auto usage = runCli({"data", "inspect", dataset("messages.jsonl"), "--model", emloc::test::demoGgufPath(),
                         "--template", "vicuna"});
    COMPARE(usage.exitCode, 2);
}
