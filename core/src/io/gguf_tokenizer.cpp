// GGUF tokenizer metadata <-> tokenizer.json. The read direction mirrors transformers' GGUF conversion
// (the reference our tests compare against); the write direction mirrors convert_hf_to_gguf.py.
#include "gguf_tokenizer.h"

#include "emloc/api/error.h"
#include "emloc/io/byte_level.h"
#include "emloc/io/utf8.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace emloc::core {

namespace {

// GGUF token types (llama.cpp's llama_token_type).
constexpr int kTokenNormal = 1;
constexpr int kTokenUnknown = 2;
constexpr int kTokenControl = 3;
constexpr int kTokenUserDefined = 4;
constexpr int kTokenUnused = 5;
constexpr int kTokenByte = 6;

const char *const kLlama3Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char *const kQwen2Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char *const kQwen35Split =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char *const kTekkenSplit =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char *const kGpt4oSplit =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// tokenizer.ggml.pre -> the split regex transformers uses; names absent here use GPT-2's ByteLevel regex.
const std::map<std::string, const char *> &preTokenizerSplits()
{
    static const std::map<std::string, const char *> splits = {
        {"llama3", kLlama3Split},       {"llama-v3", kLlama3Split},
        {"llama-bpe", kLlama3Split},    {"falcon3", kLlama3Split},
        {"falcon-h1", kLlama3Split},    {"pixtral", kLlama3Split},
        {"midm-2.0", kLlama3Split},     {"lfm2", kLlama3Split},
        {"jina-v5-nano", kLlama3Split}, {"dbrx", kLlama3Split},
        {"smaug-bpe", kLlama3Split},    {"tekken", kTekkenSplit},
        {"qwen2", kQwen2Split},         {"deepseek-r1-qwen", kQwen2Split},
        {"kormo", kQwen2Split},         {"f2llmv2", kQwen2Split},
        {"megrez", kQwen2Split},        {"qwen35", kQwen35Split},
        {"gpt-4o", kGpt4oSplit},        {"llama4", kGpt4oSplit},
        {"kanana2", kGpt4oSplit},       {"talkie", kGpt4oSplit},
        {"minimax-m2", kGpt4oSplit},
    };
    return splits;
}

bool spelledInByteAlphabet(const std::string &token)
{
    for (char32_t cp : unicode::decodeUtf8Lossy(token))
        if (ByteLevelTable::instance().byteFor(cp) < 0)
            return false;
    return true;
}

std::string respellBytes(const std::string &token)
{
    std::string out;
    ByteLevelTable::instance().encode(token, out);
    return out;
}

std::string utf8Substring(const std::vector<char32_t> &cps, size_t begin, size_t end)
{
    std::string out;
    for (size_t i = begin; i < end; ++i)
        unicode::appendUtf8(out, cps[i]);
    return out;
}

std::vector<std::string> stringArray(const GgufFile &file, const std::string &key)
{
    const GgufValue &value = file.value(key);
    if (value.type != GgufValueType::Array || value.arrayType != GgufValueType::String)
        throw Error("GGUF file '" + file.path() + "': metadata '" + key + "' should be an array of strings");
    return value.value.get<std::vector<std::string>>();
}

std::vector<int64_t> integerArray(const GgufFile &file, const std::string &key)
{
    if (!file.has(key))
        return {};
    const GgufValue &value = file.value(key);
    if (value.type != GgufValueType::Array || value.value.empty() || !value.value[0].is_number_integer())
        throw Error("GGUF file '" + file.path() + "': metadata '" + key + "' should be an array of integers");
    return value.value.get<std::vector<int64_t>>();
}

std::vector<double> numberArray(const GgufFile &file, const std::string &key)
{
    if (!file.has(key))
        return {};
    const GgufValue &value = file.value(key);
    if (value.type != GgufValueType::Array || (!value.value.empty() && !value.value[0].is_number()))
        throw Error("GGUF file '" + file.path() + "': metadata '" + key + "' should be an array of numbers");
    return value.value.get<std::vector<double>>();
}

} // namespace

// transformers' generate_merges(vocab, vocab_scores): every split of every token into two known
// pieces, ranked by the token's score (then piece lengths), best first; ties keep file order.
nlohmann::json mergesFromScores(const std::vector<std::string> &tokens, const std::vector<double> &scores,
                                const std::unordered_map<std::string, int64_t> &vocab)
{
    struct Merge
    {
        std::string left, right;
        double score;
        size_t leftLength, rightLength;
    };
    std::vector<std::pair<std::string, double>> ordered; // dict(zip(tokens, scores)) semantics
    std::unordered_map<std::string, size_t> position;
    for (size_t i = 0; i < tokens.size(); ++i) {
        auto it = position.find(tokens[i]);
        if (it == position.end()) {
            position[tokens[i]] = ordered.size();
            ordered.emplace_back(tokens[i], scores[i]);
        } else {
            ordered[it->second].second = scores[i];
        }
    }
    std::vector<Merge> merges;
    for (const auto &[token, score] : ordered) {
        auto cps = unicode::decodeUtf8Lossy(token);
        std::vector<Merge> local;
        for (size_t split = 1; split < cps.size(); ++split) {
            std::string left = utf8Substring(cps, 0, split), right = utf8Substring(cps, split, cps.size());
            if (vocab.count(left) && vocab.count(right))
                local.push_back({left, right, score, split, cps.size() - split});
        }
        std::stable_sort(local.begin(), local.end(), [&](const Merge &a, const Merge &b) {
            int64_t al = vocab.at(a.left), bl = vocab.at(b.left);
            return al != bl ? al < bl : vocab.at(a.right) < vocab.at(b.right);
        });
        merges.insert(merges.end(), local.begin(), local.end());
    }
    std::stable_sort(merges.begin(), merges.end(), [](const Merge &a, const Merge &b) {
        if (a.score != b.score)
            return a.score > b.score;
        if (a.leftLength != b.leftLength)
            return a.leftLength > b.leftLength;
        return a.rightLength > b.rightLength;
    });
    nlohmann::json out = nlohmann::json::array();
    for (const auto &merge : merges)
        out.push_back({merge.left, merge.right});
    return out;
}

nlohmann::json addedToken(int64_t id, const std::string &content, bool special)
{
    return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", false}, {"special", special}};
}

namespace {

std::string specialTokenString(const GgufFile &file, const std::vector<std::string> &tokens, const char *key)
{
    if (!file.has(key))
        return {};
    int64_t id = file.integer(key);
    if (id < 0 || id >= static_cast<int64_t>(tokens.size()))
        throw Error("GGUF file '" + file.path() + "': " + key + " " + std::to_string(id) +
                    " is outside the vocabulary of " + std::to_string(tokens.size()) + " tokens");
    return tokens[id];
}

bool addBosToken(const GgufFile &file)
{
    // A SentencePiece vocabulary without the flag gets BOS, as llama.cpp and transformers do.
    return file.booleanOr("tokenizer.ggml.add_bos_token",
                          file.stringOr("tokenizer.ggml.model", "") == "llama");
}

} // namespace

nlohmann::json templateProcessing(const std::string &bos, int64_t bosId, bool addBos, const std::string &eos,
                                  int64_t eosId, bool addEos)
{
    auto special = [](const std::string &token, int typeId) {
        return nlohmann::json{{"SpecialToken", {{"id", token}, {"type_id", typeId}}}};
    };
    auto sequence = [](const char *id, int typeId) {
        return nlohmann::json{{"Sequence", {{"id", id}, {"type_id", typeId}}}};
    };
    addBos = addBos && !bos.empty();
    addEos = addEos && !eos.empty();
    nlohmann::json single = nlohmann::json::array(), pair = nlohmann::json::array();
    nlohmann::json specials = nlohmann::json::object();
    for (int part = 0; part < 2; ++part) {
        nlohmann::json &target = part == 0 ? single : pair;
        for (int typeId = 0; typeId <= part; ++typeId) {
            if (addBos)
                target.push_back(special(bos, typeId));
            target.push_back(sequence(typeId == 0 ? "A" : "B", typeId));
            if (addEos)
                target.push_back(special(eos, typeId));
        }
    }
    if (addBos)
        specials[bos] = {{"id", bos}, {"ids", {bosId}}, {"tokens", {bos}}};
    if (addEos)
        specials[eos] = {{"id", eos}, {"ids", {eosId}}, {"tokens", {eos}}};
    return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

nlohmann::json ggufTokenizerJson(const GgufFile &file)
{
    const std::string where = "GGUF file '" + file.path() + "'";
    if (!file.has("tokenizer.ggml.model") || !file.has("tokenizer.ggml.tokens"))
        throw Error(where +
                    " has no tokenizer (tokenizer.ggml.model / tokenizer.ggml.tokens); use a GGUF that "
                    "embeds its vocabulary.");
    const std::string model = file.string("tokenizer.ggml.model");
    if (model != "gpt2" && model != "llama")
        throw Error(where + " uses tokenizer model '" + model +
                    "'; supported: gpt2 (byte-level BPE) and llama (SentencePiece BPE).");
    const bool byteLevel = model == "gpt2";
    const std::vector<std::string> tokens = stringArray(file, "tokenizer.ggml.tokens");
    const std::vector<int64_t> types = integerArray(file, "tokenizer.ggml.token_type");
    if (!types.empty() && types.size() != tokens.size())
        throw Error(where + ": tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                    " entries for " + std::to_string(tokens.size()) + " tokens");

    nlohmann::json vocab = nlohmann::json::object();
    std::unordered_map<std::string, int64_t> vocabIndex;
    for (size_t i = 0; i < tokens.size(); ++i) {
        std::string key =
            byteLevel && !spelledInByteAlphabet(tokens[i]) ? respellBytes(tokens[i]) : tokens[i];
        vocab[key] = static_cast<int64_t>(i);
        vocabIndex[key] = static_cast<int64_t>(i);
    }

    nlohmann::json merges = nlohmann::json::array();
    if (file.has("tokenizer.ggml.merges")) {
        for (const std::string &merge : stringArray(file, "tokenizer.ggml.merges")) {
            size_t space = merge.find(' ');
            if (space == std::string::npos)
                throw Error(where + ": merge '" + merge + "' in tokenizer.ggml.merges has no space");
            merges.push_back({merge.substr(0, space), merge.substr(space + 1)});
        }
    } else {
        std::vector<double> scores = numberArray(file, "tokenizer.ggml.scores");
        if (scores.size() != tokens.size())
            throw Error(where +
                        " has neither tokenizer.ggml.merges nor one score per token to rank merges by");
        merges = mergesFromScores(tokens, scores, vocabIndex);
    }

    nlohmann::json bpe = {{"type", "BPE"},
                          {"dropout", nullptr},
                          {"unk_token", nullptr},
                          {"fuse_unk", !byteLevel},
                          {"byte_fallback", !byteLevel},
                          {"ignore_merges", false},
                          {"vocab", vocab},
                          {"merges", merges}};
    bpe["continuing_subword_prefix"] = byteLevel ? nlohmann::json("") : nlohmann::json(nullptr);
    bpe["end_of_word_suffix"] = byteLevel ? nlohmann::json("") : nlohmann::json(nullptr);

    // Added tokens: CONTROL as special (a byte-level one spelled outside the byte alphabet is a
    // mislabel and skipped), USER_DEFINED as plain, then the bos/eos/unk/pad tokens as special.
    std::map<int64_t, nlohmann::json> added;
    std::set<std::string> addedContents;
    auto add = [&](const std::string &content, bool special) {
        auto it = vocabIndex.find(content);
        if (it == vocabIndex.end() || addedContents.count(content))
            return;
        addedContents.insert(content);
        added[it->second] = addedToken(it->second, content, special);
    };
    for (size_t i = 0; i < types.size(); ++i)
        if (types[i] == kTokenControl && (!byteLevel || spelledInByteAlphabet(tokens[i])))
            add(tokens[i], true);
    for (size_t i = 0; i < types.size(); ++i)
        if (types[i] == kTokenUserDefined)
            add(tokens[i], false);
    for (const char *key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                            "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"}) {
        std::string token = specialTokenString(file, tokens, key);
        if (!token.empty())
            add(token, true);
    }
    nlohmann::json addedTokens = nlohmann::json::array();
    for (auto &[id, entry] : added)
        addedTokens.push_back(entry);

    nlohmann::json preTokenizer, decoder;
    if (byteLevel) {
        auto split = preTokenizerSplits().find(file.stringOr("tokenizer.ggml.pre", ""));
        if (split != preTokenizerSplits().end())
            preTokenizer = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "Split"},
                               {"pattern", {{"Regex", split->second}}},
                               {"behavior", "Isolated"},
                               {"invert", false}},
                              {{"type", "ByteLevel"},
                               {"add_prefix_space", false},
                               {"trim_offsets", true},
                               {"use_regex", false}}}}};
        else
            preTokenizer = {{"type", "ByteLevel"},
                            {"add_prefix_space", false},
                            {"trim_offsets", true},
                            {"use_regex", true}};
        decoder = {
            {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    } else {
        preTokenizer = {
            {"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
        decoder = {{"type", "Sequence"},
                   {"decoders",
                    {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}},
                     {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    }

    const std::string bos = specialTokenString(file, tokens, "tokenizer.ggml.bos_token_id");
    const std::string eos = specialTokenString(file, tokens, "tokenizer.ggml.eos_token_id");
    nlohmann::json out = {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", addedTokens},
        {"normalizer", nullptr},
        {"pre_tokenizer", preTokenizer},
        {"post_processor",
         templateProcessing(bos, file.integerOr("tokenizer.ggml.bos_token_id", -1), addBosToken(file), eos,
                            file.integerOr("tokenizer.ggml.eos_token_id", -1),
                            file.booleanOr("tokenizer.ggml.add_eos_token", false))},
        {"decoder", decoder},
        {"model", bpe}};
    return out;
}

nlohmann::json ggufTokenizerConfig(const GgufFile &file)
{
    nlohmann::json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                             {"clean_up_tokenization_spaces", false}};
    if (!file.has("tokenizer.ggml.tokens"))
        return config;
    const std::vector<std::string> tokens = stringArray(file, "tokenizer.ggml.tokens");
    const std::pair<const char *, const char *> specials[] = {
        {"bos_token", "tokenizer.ggml.bos_token_id"},
        {"eos_token", "tokenizer.ggml.eos_token_id"},
        {"unk_token", "tokenizer.ggml.unknown_token_id"},
        {"pad_token", "tokenizer.ggml.padding_token_id"}};
    for (const auto &[name, key] : specials)
        config[name] =
            file.has(key) ? nlohmann::json(specialTokenString(file, tokens, key)) : nlohmann::json(nullptr);
    config["add_bos_token"] = addBosToken(file);
    config["add_eos_token"] = file.booleanOr("tokenizer.ggml.add_eos_token", false);
    if (file.has("tokenizer.chat_template"))
        config["chat_template"] = file.string("tokenizer.chat_template");
    if (file.has("tokenizer.ggml.add_space_prefix"))
        config["add_prefix_space"] = file.booleanOr("tokenizer.ggml.add_space_prefix", false);
    return config;
}

nlohmann::json ggufGenerationConfig(const GgufFile &file)
{
    nlohmann::json config = nlohmann::json::object();
    if (file.has("tokenizer.ggml.bos_token_id"))
        config["bos_token_id"] = file.integer("tokenizer.ggml.bos_token_id");
    if (file.has("tokenizer.ggml.eos_token_id"))
        config["eos_token_id"] = file.integer("tokenizer.ggml.eos_token_id");
    if (file.has("tokenizer.ggml.padding_token_id"))
        config["pad_token_id"] = file.integer("tokenizer.ggml.padding_token_id");
    return config;
}

namespace {

// The llama.cpp pre-tokenizer name for a tokenizer.json pre_tokenizer (convert_hf_to_gguf.py detects it
// by hashing tokenizer output; here the regex itself is recognised).
std::string preTokenizerName(const nlohmann::json &pre)
{
    if (!pre.is_object())
        return "default";
    const std::string type = pre.value("type", "");
    if (type == "ByteLevel")
        return "gpt-2"; // llama.cpp's name for GPT-2's regex ("gpt2" is rejected)
    if (type != "Sequence" || !pre.contains("pretokenizers"))
        return "default";
    const auto &parts = pre["pretokenizers"];
    for (const auto &part : parts) {
        if (part.value("type", "") == "Split" && part.contains("pattern") &&
            part["pattern"].contains("Regex")) {
            const std::string regex = part["pattern"]["Regex"].get<std::string>();
            if (regex == kLlama3Split)
                return "llama-bpe";
            if (regex == kQwen2Split)
                return "qwen2";
            if (regex == kQwen35Split)
                return "qwen35";
            if (regex == kGpt4oSplit)
                return "gpt-4o";
            if (regex == kTekkenSplit)
                return "tekken";
        }
    }
    // SmolLM / StarCoder: single digits split off, then GPT-2's ByteLevel regex.
    if (parts.size() == 2 && parts[0].value("type", "") == "Digits" &&
        parts[0].value("individual_digits", false) && parts[1].value("type", "") == "ByteLevel")
        return "smollm";
    return "default";
}

std::string tokenContent(const nlohmann::json &config, const char *name)
{
    if (!config.contains(name))
        return {};
    const auto &value = config[name];
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_object() && value.contains("content"))
        return value["content"].get<std::string>();
    return {};
}

std::string chatTemplate(const nlohmann::json &config)
{
    if (!config.contains("chat_template"))
        return {};
    const auto &value = config["chat_template"];
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_array()) // [{"name": "default", "template": ...}, ...]
        for (const auto &entry : value)
            if (entry.value("name", "") == "default")
                return entry.value("template", "");
    return {};
}

} // namespace

void addGgufTokenizerMetadata(GgufWriter &writer, const nlohmann::json &tokenizerJson,
                              const nlohmann::json &tokenizerConfig, int64_t vocabSize,
                              const std::string &sourceName)
{
    if (!tokenizerJson.is_object() || !tokenizerJson.contains("model"))
        throw Error("Model '" + sourceName +
                    "' has no tokenizer.json: a GGUF needs the vocabulary. Add the "
                    "tokenizer.json of the model to its folder.");
    const auto &model = tokenizerJson["model"];
    if (model.value("type", "") != "BPE")
        throw Error("Model '" + sourceName + "': tokenizer model type '" + model.value("type", "?") +
                    "' cannot be exported to GGUF here (only BPE tokenizers are supported).");
    const bool byteFallback = model.value("byte_fallback", false);

    std::map<int64_t, std::string> byId;
    for (const auto &[token, id] : model["vocab"].items())
        byId[id.get<int64_t>()] = token;
    std::map<int64_t, bool> addedSpecial;
    if (tokenizerJson.contains("added_tokens"))
        for (const auto &entry : tokenizerJson["added_tokens"]) {
            int64_t id = entry["id"].get<int64_t>();
            byId[id] = entry["content"].get<std::string>();
            addedSpecial[id] = entry.value("special", false);
        }
    int64_t count = std::max<int64_t>(vocabSize, byId.empty() ? 0 : byId.rbegin()->first + 1);
    nlohmann::json tokens = nlohmann::json::array(), types = nlohmann::json::array(),
                   scores = nlohmann::json::array();
    std::unordered_map<std::string, int64_t> idOf;
    std::unordered_map<std::string, double> mergeRank;
    nlohmann::json merges = nlohmann::json::array();
    if (model.contains("merges"))
        for (const auto &merge : model["merges"]) {
            std::string text = merge.is_string()
                                   ? merge.get<std::string>()
                                   : merge[0].get<std::string>() + " " + merge[1].get<std::string>();
            merges.push_back(text);
            std::string joined = text;
            joined.erase(joined.find(' '), 1);
            mergeRank.emplace(joined, static_cast<double>(mergeRank.size()));
        }
    for (int64_t id = 0; id < count; ++id) {
        auto it = byId.find(id);
        // Holes (a model's embedding rows beyond its tokenizer) become unused padding tokens, as
        // convert_hf_to_gguf.py writes them.
        std::string token = it != byId.end() ? it->second : "[PAD" + std::to_string(id) + "]";
        int type = kTokenNormal;
        if (it == byId.end())
            type = kTokenUnused;
        else if (addedSpecial.count(id))
            type = addedSpecial[id] ? kTokenControl : kTokenUserDefined;
        else if (byteFallback && token.size() == 6 && token.rfind("<0x", 0) == 0 && token.back() == '>')
            type = kTokenByte;
        tokens.push_back(token);
        types.push_back(type);
        idOf.emplace(token, id);
        // SentencePiece ranks merges by the merged piece's score: minus the merge rank keeps the order.
        auto rank = mergeRank.find(token);
        scores.push_back(rank != mergeRank.end() ? -rank->second : 0.0);
    }

    writer.set("tokenizer.ggml.model", GgufValue::string(byteFallback ? "llama" : "gpt2"));
    writer.set("tokenizer.ggml.pre",
               GgufValue::string(
                   byteFallback ? "default"
                                : preTokenizerName(tokenizerJson.value("pre_tokenizer", nlohmann::json()))));
    writer.set("tokenizer.ggml.tokens", GgufValue::array(GgufValueType::String, tokens));
    if (byteFallback)
        writer.set("tokenizer.ggml.scores", GgufValue::array(GgufValueType::Float32, scores));
    writer.set("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::Int32, types));
    if (!byteFallback)
        writer.set("tokenizer.ggml.merges", GgufValue::array(GgufValueType::String, merges));
    const std::pair<const char *, const char *> specials[] = {
        {"bos_token", "tokenizer.ggml.bos_token_id"},
        {"eos_token", "tokenizer.ggml.eos_token_id"},
        {"unk_token", "tokenizer.ggml.unknown_token_id"},
        {"pad_token", "tokenizer.ggml.padding_token_id"}};
    for (const auto &[name, key] : specials) {
        auto it = idOf.find(tokenContent(tokenizerConfig, name));
        if (it != idOf.end())
            writer.set(key, GgufValue::uint32(static_cast<uint32_t>(it->second)));
    }
    bool addBos = false;
    if (tokenizerConfig.contains("add_bos_token") && tokenizerConfig["add_bos_token"].is_boolean()) {
        addBos = tokenizerConfig["add_bos_token"].get<bool>();
    } else if (tokenizerJson.contains("post_processor") && tokenizerJson["post_processor"].is_object()) {
        const auto &single = tokenizerJson["post_processor"].value("single", nlohmann::json::array());
        addBos = !single.empty() && single[0].contains("SpecialToken");
    }
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(addBos));
    if (tokenizerConfig.value("add_eos_token", false))
        writer.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(true));
    if (byteFallback) {
        const auto &pre = tokenizerJson.value("pre_tokenizer", nlohmann::json());
        bool prepend = pre.is_object() && pre.value("type", "") == "Metaspace" &&
                       pre.value("prepend_scheme", "first") != "never";
        writer.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(prepend));
    }
    std::string chat = chatTemplate(tokenizerConfig);
    if (!chat.empty())
        writer.set("tokenizer.chat_template", GgufValue::string(chat));
}

void copyGgufTokenizerMetadata(GgufWriter &writer, const GgufFile &source)
{
    for (const auto &[key, value] : source.metadata())
        if (key.rfind("tokenizer.", 0) == 0)
            writer.set(key, value);
}

} // namespace emloc::core
