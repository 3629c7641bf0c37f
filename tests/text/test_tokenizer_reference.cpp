// Token ids and decoded text against the Hugging Face `tokenizers` library: the real SmolLM2
// tokenizer.json (from the demo GGUF via transformers) and SentencePiece / Llama 3 / Qwen2 style files
// built by tests/reference/tokenizer_golden.py, over a varied corpus, random id sequences and ~1 MB.
#include "emloc/text/tokenizer.h"

#include "child_process.h"
#include "unit_test.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace emloc::core;
using nlohmann::json;

namespace {

std::string readAll(const std::string &path)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

std::string idsText(const std::vector<int64_t> &ids)
{
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i)
        out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "]";
}

// Collects mismatches and reports the first few in full.
struct Mismatches
{
    int count = 0;
    void add(const std::string &what)
    {
        if (++count <= 15)
            emloc::test::info("warning: " + what);
    }
};

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The golden files the reference script wrote, made once for the suite.
struct State
{
    std::unique_ptr<emloc::test::TempDir> dir;
    json golden;
};
State &state()
{
    static State s;
    return s;
}

} // namespace

SUITE_SETUP()
{
    state().dir = std::make_unique<emloc::test::TempDir>();
    VERIFY(emloc::test::fileExists(state().dir->path()));
    const auto result = emloc::test::runPythonScript(
        "tokenizer_golden.py", {state().dir->path(), emloc::test::demoGgufPath()}, 900000);
    VERIFY2(result.exitCode == 0, result.out + result.err);
    state().golden = json::parse(readAll(state().dir->filePath("golden.json")));
    COMPARE(state().golden["tokenizers"].size(), size_t(7));
}

TEST_CASE(encodeAndDecodeMatchTokenizers)
{
    int cases = 0;
    Mismatches mismatches;
    for (const json &entry : state().golden["tokenizers"]) {
        const std::string name = entry["name"];
        const auto tokenizer = Tokenizer::fromFile(entry["file"].get<std::string>());
        if (tokenizer->vocabSize() != entry["id_limit"].get<int64_t>())
            mismatches.add(name + ": vocabSize " + std::to_string(tokenizer->vocabSize()) + " expected " +
                           entry["id_limit"].dump());
        for (const json &c : entry["cases"]) {
            const std::string text = c["text"];
            const std::string where = name + " on " + json(text).dump();
            const auto ids = tokenizer->encode(text, false);
            const auto expected = c["ids"].get<std::vector<int64_t>>();
            if (ids != expected)
                mismatches.add(where + ": ids " + idsText(ids) + " expected " + idsText(expected));
            const auto withSpecial = c["ids_special"].get<std::vector<int64_t>>();
            const auto idsSpecial = tokenizer->encode(text, true);
            if (idsSpecial != withSpecial)
                mismatches.add(where + ": ids with special tokens " + idsText(idsSpecial) + " expected " +
                               idsText(withSpecial));
            const std::string decoded = tokenizer->decode(withSpecial, false);
            if (decoded != c["decoded"].get<std::string>())
                mismatches.add(where + ": decoded " + json(decoded).dump() + " expected " +
                               c["decoded"].dump());
            const std::string decodedSkip = tokenizer->decode(withSpecial, true);
            if (decodedSkip != c["decoded_skip"].get<std::string>())
                mismatches.add(where + ": decoded skipping specials " + json(decodedSkip).dump() +
                               " expected " + c["decoded_skip"].dump());
            if (entry["lossless"].get<bool>() && tokenizer->decode(ids, false) != text)
                mismatches.add(where + ": decode(encode(text)) differs from the text");
            ++cases;
        }
        for (const json &c : entry["decode_cases"]) {
            const auto ids = c["ids"].get<std::vector<int64_t>>();
            const std::string decoded = tokenizer->decode(ids, false);
            if (decoded != c["decoded"].get<std::string>())
                mismatches.add(name + ": decode " + idsText(ids) + " gave " + json(decoded).dump() +
                               " expected " + c["decoded"].dump());
            const std::string decodedSkip = tokenizer->decode(ids, true);
            if (decodedSkip != c["decoded_skip"].get<std::string>())
                mismatches.add(name + ": decode (skip special) " + idsText(ids) + " gave " +
                               json(decodedSkip).dump() + " expected " + c["decoded_skip"].dump());
            ++cases;
        }
    }
    emloc::test::info(emloc::test::format("%d cases compared, %d mismatches", cases, mismatches.count));
    VERIFY(cases > 700);
    COMPARE(mismatches.count, 0);
}

TEST_CASE(megabyteTextMatchesAndThroughput)
{
    const std::string big = readAll(state().dir->filePath("big.txt"));
    VERIFY(big.size() >= 1000000);
    int compared = 0;
    for (const json &entry : state().golden["tokenizers"]) {
        if (!entry.contains("big_ids"))
            continue;
        const auto tokenizer = Tokenizer::fromFile(entry["file"].get<std::string>());
        auto start = std::chrono::steady_clock::now();
        const auto ids = tokenizer->encode(big, false);
        const double seconds = std::max(1e-9, secondsSince(start));
        start = std::chrono::steady_clock::now();
        const auto again = tokenizer->encode(big, false); // with a warm word cache
        const double warmSeconds = std::max(1e-9, secondsSince(start));
        start = std::chrono::steady_clock::now();
        const std::string decoded = tokenizer->decode(ids, false);
        const double decodeSeconds = std::max(1e-9, secondsSince(start));
        emloc::test::info(emloc::test::format(
            "%s: %zu bytes -> %zu tokens; encode %.3f s (%.0f tokens/s, %.2f MB/s), warm cache %.3f s "
            "(%.0f tokens/s), decode %.3f s",
            entry["name"].get<std::string>().c_str(), big.size(), ids.size(), seconds, ids.size() / seconds,
            big.size() / seconds / 1e6, warmSeconds, ids.size() / warmSeconds, decodeSeconds));
        const auto expected = entry["big_ids"].get<std::vector<int64_t>>();
        COMPARE(ids.size(), expected.size());
        VERIFY(ids == expected);
        VERIFY(again == expected);
        if (entry["lossless"].get<bool>())
            VERIFY(decoded == big);
        ++compared;
    }
    COMPARE(compared, 3);
}
