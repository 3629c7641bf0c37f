// Checkpoints that ship a SentencePiece tokenizer.model and no tokenizer.json (InternLM2's, Llama 2's
// originals): the tokenizer built from it gives the ids their own slow tokenizers give (the SentencePiece
// library on each piece of text between the added tokens, BOS first;
// tests/reference/sentencepiece_golden.py), with and without SentencePiece's dummy prefix, on
// tokenizer_golden.py's corpus of ~100 texts; a model it cannot reproduce (Unigram) and a damaged file are
// refused naming the file.
#include "emloc/api/error.h"
#include "emloc/io/sentencepiece_tokenizer.h"
#include "emloc/text/tokenizer.h"

#include "child_process.h"
#include "unit_test.h"

#include <filesystem>
#include <fstream>

using namespace emloc::core;
using namespace emloc::test;

namespace {
std::unique_ptr<TempDir> g_dir;
nlohmann::json g_golden;

std::string idsText(const std::vector<int64_t> &ids)
{
    return nlohmann::json(ids).dump();
}

// The message of the Error `read` throws ("" when it throws none).
template <class Read> std::string errorOf(Read read)
{
    try {
        read();
    } catch (const Error &error) {
        return error.what();
    }
    return {};
}
} // namespace

SUITE_SETUP()
{
    g_dir = std::make_unique<TempDir>();
    const auto made = runPythonScript("sentencepiece_golden.py", {g_dir->path()}, 300000);
    VERIFY2(made.exitCode == 0, describe(made));
    g_golden = nlohmann::json::parse(readFile(g_dir->filePath("golden.json")));
}

TEST_CASE(idsAreTheSlowTokenizers)
{
    COMPARE(int(g_golden["variants"].size()), 2);
    for (const nlohmann::json &variant : g_golden["variants"]) {
        const std::string folder = variant["folder"].get<std::string>();
        const nlohmann::json config = nlohmann::json::parse(readFile(folder + "/tokenizer_config.json"));
        const auto tokenizer = Tokenizer::fromJson(folderTokenizerJson(folder, config), folder);
        int checked = 0;
        for (const nlohmann::json &c : variant["cases"]) {
            const std::string text = c["text"].get<std::string>();
            const std::string where = variant["name"].get<std::string>() + " " + nlohmann::json(text).dump();
            const std::vector<int64_t> ids = tokenizer->encode(text, true);
            VERIFY2(idsText(ids) == c["ids"].dump(),
                    where + ": " + idsText(ids) + ", expected " + c["ids"].dump());
            const std::string decoded = tokenizer->decode(ids, true);
            VERIFY2(decoded == c["decoded_skip"].get<std::string>(),
                    where + ": decoded " + nlohmann::json(decoded).dump() + ", expected " +
                        c["decoded_skip"].dump());
            ++checked;
        }
        info(variant["name"].get<std::string>() + ": " + std::to_string(checked) + " texts, ids equal");
    }
}

TEST_CASE(refusesWhatItCannotReproduce)
{
    const std::string unigram = g_dir->filePath("unigram");
    const std::string refused = errorOf([&] { folderTokenizerJson(unigram, nlohmann::json::object()); });
    VERIFY2(contains(refused, "Unigram") && contains(refused, unigram + "/tokenizer.model"), refused);

    // A damaged file: cut short in the middle of a piece, and bytes that are no protocol buffer.
    const std::string source =
        readFile(g_golden["variants"][0]["folder"].get<std::string>() + "/tokenizer.model");
    const std::string damaged = g_dir->filePath("damaged");
    std::filesystem::create_directories(damaged);
    for (const std::string &content :
         {source.substr(0, source.size() / 3), std::string("\x0f\xff\xff\xff", 4), std::string()}) {
        writeFile(damaged + "/tokenizer.model", content);
        const std::string error = errorOf([&] { folderTokenizerJson(damaged, nlohmann::json::object()); });
        VERIFY2(contains(error, damaged + "/tokenizer.model"), error);
    }
    // A tokenizer.json beside it is the one read.
    writeFile(damaged + "/tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})");
    COMPARE(folderTokenizerJson(damaged, nlohmann::json::object())["model"]["type"].get<std::string>(),
            std::string("BPE"));
}
