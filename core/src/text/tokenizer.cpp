#include "emloc/text/tokenizer.h"

#include "emloc/api/error.h"
#include "tokenizer_added_vocabulary.h"
#include "tokenizer_bpe.h"
#include "tokenizer_components.h"
#include "unicode_classes.h"

#include <fstream>
#include <sstream>

namespace emloc::core {

namespace {

using namespace text;

// A tokenizer.json with a BPE model, run stage by stage as tokenizers' Tokenizer::encode does.
class HfBpeTokenizer : public Tokenizer
{
public:
    HfBpeTokenizer(const nlohmann::json &json, const std::string &sourceName);

    std::vector<int64_t> encode(const std::string &text, bool addSpecialTokens) const override;
    std::string decode(const std::vector<int64_t> &ids, bool skipSpecialTokens) const override;
    int64_t vocabSize() const override { return m_vocabSize; }
    int64_t tokenToId(const std::string &token) const override;
    std::string idToToken(int64_t id) const override;
    bool isSpecial(int64_t id) const override;

private:
    std::string m_sourceName;
    std::unique_ptr<Normalizer> m_normalizer;
    std::unique_ptr<PreTokenizer> m_preTokenizer;
    std::unique_ptr<BpeModel> m_model;
    std::unique_ptr<PostProcessor> m_postProcessor;
    std::unique_ptr<Decoder> m_decoder;
    std::unique_ptr<AddedVocabulary> m_added;
    int64_t m_vocabSize = 0;
};

std::vector<AddedToken> parseAddedTokens(const nlohmann::json &json, const BpeModel &model,
                                         const std::string &source)
{
    std::vector<AddedToken> tokens;
    if (!json.contains("added_tokens") || json["added_tokens"].is_null())
        return tokens;
    if (!json["added_tokens"].is_array())
        throw Error(source + ": 'added_tokens' must be a list");
    for (size_t i = 0; i < json["added_tokens"].size(); ++i) {
        const nlohmann::json &entry = json["added_tokens"][i];
        const std::string where = source + ": added_tokens[" + std::to_string(i) + "]";
        if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string())
            throw Error(where + " has no string 'content'");
        AddedToken token;
        token.content = entry["content"].get<std::string>();
        token.special = boolField(entry, "special", false, where);
        token.singleWord = boolField(entry, "single_word", false, where);
        token.lstrip = boolField(entry, "lstrip", false, where);
        token.rstrip = boolField(entry, "rstrip", false, where);
        token.normalized = boolField(entry, "normalized", !token.special, where);
        // A content the model already knows keeps the model's id, as tokenizers' add_tokens does.
        token.id = model.tokenToId(token.content);
        if (token.id < 0) {
            if (!entry.contains("id") || !entry["id"].is_number_integer() || entry["id"].get<int64_t>() < 0)
                throw Error(where + " ('" + token.content + "') has no valid 'id'");
            token.id = entry["id"].get<int64_t>();
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

HfBpeTokenizer::HfBpeTokenizer(const nlohmann::json &json, const std::string &sourceName)
    : m_sourceName(sourceName)
{
    if (!json.is_object())
        throw Error(sourceName + ": a tokenizer.json must hold a JSON object");
    if (!json.contains("model") || !json["model"].is_object())
        throw Error(sourceName + ": no 'model' object; this is not a Hugging Face tokenizer.json");
    const nlohmann::json &model = json["model"];
    std::string type;
    if (model.contains("type") && model["type"].is_string())
        type = model["type"].get<std::string>();
    else if (model.contains("merges")) // old files name no type; tokenizers infers BPE from the fields
        type = "BPE";
    if (type != "BPE")
        throw Error(
            sourceName + ": the tokenizer model type '" + (type.empty() ? std::string("(none)") : type) +
            "' is not supported; only BPE tokenizers (byte-level such as GPT-2, Llama 3, Qwen, SmolLM, or "
            "SentencePiece-style such as Llama 2, Mistral) can be used");
    m_model = std::make_unique<BpeModel>(model, sourceName + ": model (BPE)");
    const auto stage = [&json](const char *name) {
        return json.contains(name) ? json[name] : nlohmann::json();
    };
    m_normalizer = makeNormalizer(stage("normalizer"), sourceName + ": normalizer");
    m_preTokenizer = makePreTokenizer(stage("pre_tokenizer"), sourceName + ": pre_tokenizer");
    m_postProcessor = makePostProcessor(stage("post_processor"), sourceName + ": post_processor");
    m_decoder = makeDecoder(stage("decoder"), sourceName + ": decoder");
    m_added =
        std::make_unique<AddedVocabulary>(parseAddedTokens(json, *m_model, sourceName), m_normalizer.get());
    // Embedding tables are indexed by id, so the size is the highest id in use plus one.
    m_vocabSize = std::max(m_model->maxId(), m_added->maxId()) + 1;
}

std::vector<int64_t> HfBpeTokenizer::encode(const std::string &text, bool addSpecialTokens) const
{
    const size_t invalid = unicode::findInvalidUtf8(text);
    if (invalid != std::string::npos)
        throw Error("cannot tokenize: the text is not valid UTF-8 (byte " + std::to_string(invalid) + ")");
    Pieces pieces = m_added->extractAndNormalize(text, m_normalizer.get());
    if (m_preTokenizer)
        m_preTokenizer->preTokenize(pieces);
    std::vector<int64_t> ids;
    ids.reserve(text.size() / 3 + 4);
    for (const Piece &piece : pieces) {
        if (piece.addedId >= 0)
            ids.push_back(piece.addedId);
        else
            m_model->tokenize(piece.text, ids);
    }
    if (addSpecialTokens && m_postProcessor)
        m_postProcessor->addSpecialTokens(ids);
    return ids;
}

std::string HfBpeTokenizer::decode(const std::vector<int64_t> &ids, bool skipSpecialTokens) const
{
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int64_t id : ids) {
        const AddedToken *added = m_added->byId(id);
        const std::string *token = added ? &added->decodedForm : m_model->idToToken(id);
        if (!token) // unknown ids are skipped, as tokenizers does
            continue;
        // Matched by string, as tokenizers does: a normalized special token whose normalized form
        // differs from its content is not recognised as special here.
        if (skipSpecialTokens && m_added->isSpecialContent(*token))
            continue;
        tokens.push_back(*token);
    }
    if (!m_decoder) {
        std::string joined;
        for (size_t i = 0; i < tokens.size(); ++i)
            joined += (i ? " " : "") + tokens[i];
        return joined;
    }
    std::string text;
    for (const std::string &piece : m_decoder->decodeChain(std::move(tokens)))
        text += piece;
    return text;
}

int64_t HfBpeTokenizer::tokenToId(const std::string &token) const
{
    const int64_t added = m_added->idOf(token);
    return added >= 0 ? added : m_model->tokenToId(token);
}

std::string HfBpeTokenizer::idToToken(int64_t id) const
{
    if (const AddedToken *added = m_added->byId(id))
        return added->decodedForm;
    const std::string *token = m_model->idToToken(id);
    return token ? *token : std::string();
}

bool HfBpeTokenizer::isSpecial(int64_t id) const
{
    const AddedToken *added = m_added->byId(id);
    return added && added->special;
}

} // namespace

std::shared_ptr<Tokenizer> Tokenizer::fromJson(const nlohmann::json &tokenizerJson,
                                               const std::string &sourceName)
{
    return std::make_shared<HfBpeTokenizer>(tokenizerJson, sourceName);
}

std::shared_ptr<Tokenizer> Tokenizer::fromFile(const std::string &tokenizerJsonPath)
{
    std::ifstream file(tokenizerJsonPath, std::ios::binary);
    if (!file)
        throw Error(tokenizerJsonPath + ": cannot open the tokenizer file (missing or unreadable)");
    std::ostringstream content;
    content << file.rdbuf();
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(content.str());
    } catch (const nlohmann::json::exception &e) { // parse_error, or out_of_range for a huge number
        throw Error(tokenizerJsonPath + ": not valid JSON (" + e.what() + ")");
    }
    return fromJson(json, tokenizerJsonPath);
}

} // namespace emloc::core
