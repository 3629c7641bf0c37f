// The tokenizer on small hand-made tokenizer.json files: merge priority, byte fallback, unknown
// tokens, added tokens, decoding, thread safety, and the errors for files it cannot run.
#include "emloc/api/error.h"
#include "emloc/text/tokenizer.h"

#include "unit_test.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace emloc::core;
using nlohmann::json;

namespace {

using Ids = std::vector<int64_t>;

// A byte-free BPE over a tiny alphabet; `merges` decides the order of merging.
json tinyBpe(const json &merges)
{
    return json{{"model",
                 {{"type", "BPE"},
                  {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"<unk>", 6}}},
                  {"merges", merges},
                  {"unk_token", "<unk>"}}}};
}

// Expects fromJson to throw an Error whose message names the source and every one of `parts`.
void expectError(const json &tokenizerJson, const std::vector<std::string> &parts)
{
    try {
        Tokenizer::fromJson(tokenizerJson, "bad/tokenizer.json");
        FAIL("expected an Error");
    } catch (const Error &e) {
        const std::string message = e.what();
        VERIFY2(message.find("bad/tokenizer.json") != std::string::npos, message.c_str());
        for (const std::string &part : parts)
            VERIFY2(message.find(part) != std::string::npos, (message + " lacks " + part).c_str());
    }
}

} // namespace

TEST_CASE(mergesFollowRankNotPosition)
{
    // "a b" ranks first: a+b, then ab+c.
    auto first = Tokenizer::fromJson(tinyBpe(json::array({"a b", "ab c", "b c"})), "t");
    COMPARE(first->encode("abc"), (Ids{5}));
    // "b c" ranks first: the word becomes a + bc, which has no merge.
    auto second =
        Tokenizer::fromJson(tinyBpe(json::array({json::array({"b", "c"}), json::array({"a", "b"})})), "t");
    COMPARE(second->encode("abc"), (Ids{0, 4}));
    COMPARE(second->encode("abab"), (Ids{3, 3}));
    // Without a pre-tokenizer the whole text is one word; unknown characters fuse only when asked.
    COMPARE(second->encode("axxb"), (Ids{0, 6, 6, 1}));
    json fused = tinyBpe(json::array({"a b"}));
    fused["model"]["fuse_unk"] = true;
    COMPARE(Tokenizer::fromJson(fused, "t")->encode("axxb"), (Ids{0, 6, 1}));
}

TEST_CASE(byteFallbackAndDecoderChain)
{
    json vocab = {{"<unk>", 0}, {"▁", 1}, {"h", 2}, {"i", 3}, {"▁h", 4}, {"▁hi", 5}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        vocab[name] = 6 + b;
    }
    const json tokenizerJson = {
        {"added_tokens",
         json::array({{{"id", 262}, {"content", "<s>"}, {"special", true}, {"normalized", false}}})},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           json::array({{{"type", "Prepend"}, {"prepend", "▁"}},
                        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}})}}},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {262}}, {"tokens", {"<s>"}}}}}}}},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                                    {{"type", "ByteFallback"}},
                                    {{"type", "Fuse"}},
                                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", json::array({"▁ h", "▁h i"})},
          {"unk_token", "<unk>"},
          {"byte_fallback", true}}}};
    auto tokenizer = Tokenizer::fromJson(tokenizerJson, "t");
    // "é" is not in the vocab: its two UTF-8 bytes become <0xC3> <0xA9>.
    const Ids ids = tokenizer->encode("hi é", true);
    COMPARE(ids, (Ids{262, 5, 1, 6 + 0xC3, 6 + 0xA9}));
    COMPARE(tokenizer->decode(ids), std::string("<s> hi é"));
    COMPARE(tokenizer->decode(ids, true), std::string("hi é"));
    // A lone continuation byte cannot form UTF-8: one replacement character per byte.
    COMPARE(tokenizer->decode({5, 6 + 0xA9, 6 + 0xA9}), std::string("hi\xEF\xBF\xBD\xEF\xBF\xBD"));
    COMPARE(tokenizer->tokenToId("<s>"), int64_t(262));
    COMPARE(tokenizer->idToToken(5), std::string("▁hi"));
    COMPARE(tokenizer->idToToken(9999), std::string());
    VERIFY(tokenizer->isSpecial(262));
    VERIFY(!tokenizer->isSpecial(5));
    COMPARE(tokenizer->vocabSize(), int64_t(263));
}

TEST_CASE(concurrentEncodingAgrees)
{
    // Several threads share one tokenizer (and its word cache) while filling it.
    auto tokenizer = Tokenizer::fromJson(tinyBpe(json::array({"a b", "b c", "ab c"})), "t");
    std::vector<std::string> texts;
    std::vector<Ids> expected;
    for (int i = 0; i < 64; ++i) {
        std::string text;
        for (int j = 0; j < 3 + i % 7; ++j)
            text += "abc"[(i * 7 + j * 3) % 3 == 0 ? (i + j) % 3 : (i * j) % 3];
        texts.push_back(text);
        expected.push_back(
            Tokenizer::fromJson(tinyBpe(json::array({"a b", "b c", "ab c"})), "t")->encode(text));
    }
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t]() {
            for (int round = 0; round < 50; ++round) {
                for (size_t i = 0; i < texts.size(); ++i) {
                    const size_t k = (i + static_cast<size_t>(t * 13 + round)) % texts.size();
                    if (tokenizer->encode(texts[k]) != expected[k])
                        ++mismatches;
                }
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    COMPARE(mismatches.load(), 0);
}

TEST_CASE(invalidUtf8IsAnError)
{
    auto tokenizer = Tokenizer::fromJson(tinyBpe(json::array({"a b"})), "t");
    VERIFY_THROWS(Error, tokenizer->encode(std::string("ab\xC3(")));
}

TEST_CASE(malformedFilesNameTheProblem)
{
    expectError(json{{"version", "1.0"}}, {"model"});
    expectError(json{{"model", {{"type", "WordPiece"}, {"vocab", {{"a", 0}}}}}}, {"WordPiece"});
    expectError(json{{"model", {{"type", "Unigram"}, {"vocab", json::array()}}}}, {"Unigram"});
    expectError(tinyBpe(json::array({"a z"})), {"merges[0]", "'z'"});
    expectError(tinyBpe(json::array({"a b", "abc"})), {"merges[1]"});
    json precompiled = tinyBpe(json::array());
    precompiled["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
    expectError(precompiled, {"normalizer", "Precompiled"});
    json bert = tinyBpe(json::array());
    bert["pre_tokenizer"] = {{"type", "Sequence"},
                             {"pretokenizers", json::array({{{"type", "BertPreTokenizer"}}})}};
    expectError(bert, {"pre_tokenizer.pretokenizers[0]", "BertPreTokenizer"});
    json wordPieceDecoder = tinyBpe(json::array());
    wordPieceDecoder["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
    expectError(wordPieceDecoder, {"decoder", "WordPiece"});
    json badRegex = tinyBpe(json::array());
    badRegex["pre_tokenizer"] = {{"type", "Split"},
                                 {"pattern", {{"Regex", "(unclosed"}}},
                                 {"behavior", "Isolated"},
                                 {"invert", false}};
    expectError(badRegex, {"pre_tokenizer", "(unclosed"});
}

TEST_CASE(fileErrorsNameThePath)
{
    emloc::test::TempDir dir;
    const std::string missing = dir.filePath("absent.json");
    try {
        Tokenizer::fromFile(missing);
        FAIL("expected an Error");
    } catch (const Error &e) {
        VERIFY(std::string(e.what()).find(missing) != std::string::npos);
    }
    const std::string broken = dir.filePath("broken.json");
    std::ofstream(broken) << "{\"model\": {";
    try {
        Tokenizer::fromFile(broken);
        FAIL("expected an Error");
    } catch (const Error &e) {
        VERIFY(std::string(e.what()).find(broken) != std::string::npos);
    }
    const std::string good = dir.filePath("good.json");
    std::ofstream(good) << tinyBpe(json::array({"a b"})).dump();
    COMPARE(Tokenizer::fromFile(good)->encode("ab"), (Ids{3}));
}
