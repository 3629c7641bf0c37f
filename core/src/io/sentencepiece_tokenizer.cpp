#include "emloc/io/sentencepiece_tokenizer.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors_weights.h"
#include "gguf_tokenizer.h"

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <unordered_map>

namespace emloc::core {

namespace {

constexpr int kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;
constexpr int kBpe = 2;

// The protocol buffer wire format, as far as sentencepiece_model.proto needs it.
class WireReader
{
public:
    WireReader(const char *data, size_t size, const std::string &where)
        : m_data(data), m_end(data + size), m_where(where)
    {}

    bool done() const { return m_data >= m_end; }

    uint64_t varint()
    {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_data >= m_end)
                fail("a number runs past the end");
            const uint8_t byte = static_cast<uint8_t>(*m_data++);
            value |= static_cast<uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return value;
        }
        fail("a number is longer than 10 bytes");
    }

    // A length-delimited field's bytes.
    WireReader nested()
    {
        const uint64_t length = varint();
        if (length > static_cast<uint64_t>(m_end - m_data))
            fail("a field of " + std::to_string(length) + " bytes runs past the end");
        WireReader inner(m_data, static_cast<size_t>(length), m_where);
        m_data += length;
        return inner;
    }

    std::string bytes()
    {
        WireReader inner = nested();
        return std::string(inner.m_data, inner.m_end);
    }

    float fixed32()
    {
        if (m_end - m_data < 4)
            fail("a 4-byte number runs past the end");
        float value;
        std::memcpy(&value, m_data, 4); // little-endian on every platform the engine builds for
        m_data += 4;
        return value;
    }

    void skip(int wireType)
    {
        switch (wireType) {
        case 0:
            varint();
            return;
        case 1:
            if (m_end - m_data < 8)
                fail("an 8-byte field runs past the end");
            m_data += 8;
            return;
        case 2:
            nested();
            return;
        case 5:
            fixed32();
            return;
        default:
            fail("unknown wire type " + std::to_string(wireType));
        }
    }

    [[noreturn]] void fail(const std::string &what) const
    {
        throw Error(m_where + " is not a valid SentencePiece model (" + what +
                    "); restore tokenizer.model from the original model");
    }

private:
    const char *m_data;
    const char *m_end;
    std::string m_where;
};

// Reads one message: `onField(field, wireType, reader)` consumes the value or returns false to skip it.
template <class OnField> void readMessage(WireReader reader, OnField onField)
{
    while (!reader.done()) {
        const uint64_t key = reader.varint();
        const int field = static_cast<int>(key >> 3), wireType = static_cast<int>(key & 7);
        if (!onField(field, wireType, reader))
            reader.skip(wireType);
    }
}

int32_t asInt32(uint64_t value)
{
    return static_cast<int32_t>(static_cast<uint32_t>(value)); // int32 fields: negative values sign-extended
}

bool fileExists(const std::string &path)
{
    struct stat info
    {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

} // namespace

SentencePieceModel readSentencePieceModel(const std::string &path)
{
    const std::string content = readTextFile(path);
    const std::string where = "'" + path + "'";
    SentencePieceModel model;
    readMessage(WireReader(content.data(), content.size(), where), [&](int field, int wire, WireReader &r) {
        if (field == 1 && wire == 2) { // pieces
            SentencePieceModel::Piece piece;
            readMessage(r.nested(), [&](int f, int w, WireReader &p) {
                if (f == 1 && w == 2)
                    piece.text = p.bytes();
                else if (f == 2 && w == 5)
                    piece.score = p.fixed32();
                else if (f == 3 && w == 0)
                    piece.type = static_cast<int>(p.varint());
                else
                    return false;
                return true;
            });
            model.pieces.push_back(std::move(piece));
        } else if (field == 2 && wire == 2) { // trainer_spec
            readMessage(r.nested(), [&](int f, int w, WireReader &t) {
                if (w != 0)
                    return false;
                const uint64_t value = t.varint();
                switch (f) {
                case 3:
                    model.modelType = static_cast<int>(value);
                    break;
                case 24:
                    model.treatWhitespaceAsSuffix = value != 0;
                    break;
                case 35:
                    model.byteFallback = value != 0;
                    break;
                case 40:
                    model.unkId = asInt32(value);
                    break;
                case 41:
                    model.bosId = asInt32(value);
                    break;
                case 42:
                    model.eosId = asInt32(value);
                    break;
                case 43:
                    model.padId = asInt32(value);
                    break;
                default:
                    break;
                }
                return true;
            });
        } else if (field == 3 && wire == 2) { // normalizer_spec
            readMessage(r.nested(), [&](int f, int w, WireReader &n) {
                if (f == 1 && w == 2)
                    model.normalizerName = n.bytes();
                else if (f == 3 && w == 0)
                    model.addDummyPrefix = n.varint() != 0;
                else if (f == 4 && w == 0)
                    model.removeExtraWhitespaces = n.varint() != 0;
                else if (f == 5 && w == 0)
                    model.escapeWhitespaces = n.varint() != 0;
                else
                    return false;
                return true;
            });
        } else {
            return false;
        }
        return true;
    });
    if (model.pieces.empty())
        throw Error(where + " holds no pieces; it is not a SentencePiece model");
    return model;
}

nlohmann::json sentencePieceTokenizerJson(const SentencePieceModel &model,
                                          const nlohmann::json &tokenizerConfig,
                                          const std::string &sourceName)
{
    const auto refuse = [&](const std::string &why) {
        throw Error(sourceName + ": " + why +
                    "; this tokenizer cannot be reproduced from tokenizer.model here, add the model's "
                    "tokenizer.json (transformers writes one with AutoTokenizer.from_pretrained(...)"
                    ".save_pretrained(...))");
    };
    if (model.modelType != kBpe)
        refuse("the SentencePiece model is of type " +
               std::string(model.modelType == 1 ? "Unigram" : std::to_string(model.modelType)) +
               ", only BPE models are read");
    if (!model.normalizerName.empty() && model.normalizerName != "identity")
        refuse("its normalizer_spec applies the rule '" + model.normalizerName + "'");
    if (model.removeExtraWhitespaces)
        refuse("its normalizer_spec collapses whitespace (remove_extra_whitespaces)");
    if (!model.escapeWhitespaces || model.treatWhitespaceAsSuffix)
        refuse("its normalizer does not mark spaces as the prefix U+2581");

    const int64_t count = static_cast<int64_t>(model.pieces.size());
    nlohmann::json vocab = nlohmann::json::object();
    std::unordered_map<std::string, int64_t> vocabIndex;
    std::vector<std::string> tokens;
    std::vector<double> scores;
    for (int64_t id = 0; id < count; ++id) {
        const SentencePieceModel::Piece &piece = model.pieces[id];
        if (!vocabIndex.count(piece.text)) {
            vocab[piece.text] = id;
            vocabIndex[piece.text] = id;
        }
        tokens.push_back(piece.text);
        scores.push_back(piece.score);
    }
    const auto pieceAt = [&](int id) {
        return id >= 0 && id < count ? model.pieces[id].text : std::string();
    };
    const std::string unk = pieceAt(model.unkId);

    // Added tokens: the model's control and unknown pieces and user-defined symbols (SentencePiece never
    // splits them), then tokenizer_config.json's own, under its flags.
    std::map<int64_t, nlohmann::json> added;
    for (int64_t id = 0; id < count; ++id) {
        const int type = model.pieces[id].type;
        if (type == kControl || type == kUnknown || type == kUserDefined)
            added[id] = addedToken(id, model.pieces[id].text, type != kUserDefined);
    }
    const auto decoder = tokenizerConfig.find("added_tokens_decoder");
    if (decoder != tokenizerConfig.end() && decoder->is_object())
        for (const auto &[key, entry] : decoder->items()) {
            if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string())
                throw Error(sourceName + ": tokenizer_config.json's added_tokens_decoder['" + key +
                            "'] has no \"content\" string");
            int64_t id = 0;
            try {
                id = std::stoll(key);
            } catch (const std::exception &) {
                throw Error(sourceName + ": tokenizer_config.json's added_tokens_decoder has the key '" +
                            key + "', which is not a token id");
            }
            added[id] = addedToken(id, entry["content"].get<std::string>(), entry.value("special", true));
        }
    nlohmann::json addedTokens = nlohmann::json::array();
    for (auto &[id, entry] : added)
        addedTokens.push_back(entry);

    nlohmann::json normalizers = nlohmann::json::array();
    if (model.addDummyPrefix)
        normalizers.push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
    normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
    const nlohmann::json decoderJson = {
        {"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", model.addDummyPrefix ? 1 : 0}, {"stop", 0}}}}};
    const nlohmann::json bpe = {{"type", "BPE"},
                                {"dropout", nullptr},
                                {"unk_token", unk.empty() ? nlohmann::json(nullptr) : nlohmann::json(unk)},
                                {"continuing_subword_prefix", nullptr},
                                {"end_of_word_suffix", nullptr},
                                {"fuse_unk", true},
                                {"byte_fallback", model.byteFallback},
                                {"ignore_merges", false},
                                {"vocab", vocab},
                                {"merges", mergesFromScores(tokens, scores, vocabIndex)}};
    const auto flag = [&](const char *key, bool fallback) {
        const auto found = tokenizerConfig.find(key);
        return found != tokenizerConfig.end() && found->is_boolean() ? found->get<bool>() : fallback;
    };
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", addedTokens},
            {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
            {"pre_tokenizer", nullptr},
            {"post_processor",
             templateProcessing(pieceAt(model.bosId), model.bosId, flag("add_bos_token", true),
                                pieceAt(model.eosId), model.eosId, flag("add_eos_token", false))},
            {"decoder", decoderJson},
            {"model", bpe}};
}

nlohmann::json folderTokenizerJson(const std::string &folder, const nlohmann::json &tokenizerConfig)
{
    nlohmann::json json = optionalFolderJson(folder, "tokenizer.json");
    const std::string model = folder + "/tokenizer.model";
    if (!json.empty() || !fileExists(model))
        return json;
    return sentencePieceTokenizerJson(readSentencePieceModel(model), tokenizerConfig, "'" + model + "'");
}

} // namespace emloc::core
