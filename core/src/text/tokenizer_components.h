#pragma once
// The pipeline stages of a tokenizer.json (normalizer, pre-tokenizer, post-processor, decoder), each
// reproducing the `tokenizers` library component of the same name. Offsets are not tracked: only
// the ids and the decoded text matter here.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emloc::core::text {

// A slice of the input on its way to the model: either an added token already resolved to its id,
// or text still to be split and tokenized.
struct Piece
{
    std::string text;
    int64_t addedId = -1;
    // Whether the slice begins at offset 0 of the original input (Metaspace's "first" scheme).
    bool atOriginalStart = false;
};
using Pieces = std::vector<Piece>;

class Normalizer
{
public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string &text) const = 0;
};

class PreTokenizer
{
public:
    virtual ~PreTokenizer() = default;
    // Splits (and may transform) the pieces without an added id; drops empty pieces.
    virtual void preTokenize(Pieces &pieces) const = 0;
};

class PostProcessor
{
public:
    virtual ~PostProcessor() = default;
    // Adds the special tokens of a single sequence (encode with add_special_tokens).
    virtual void addSpecialTokens(std::vector<int64_t> &ids) const = 0;
};

class Decoder
{
public:
    virtual ~Decoder() = default;
    // tokenizers' decode_chain: token strings in, strings out (joined by the caller).
    virtual std::vector<std::string> decodeChain(std::vector<std::string> tokens) const = 0;
};

// `context` starts every Error message: the source file and the component's place in it.
// A null JSON value gives a null pointer (the stage is absent).
std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json &json, const std::string &context);
std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json &json, const std::string &context);
std::unique_ptr<PostProcessor> makePostProcessor(const nlohmann::json &json, const std::string &context);
std::unique_ptr<Decoder> makeDecoder(const nlohmann::json &json, const std::string &context);

// Helpers for the parsers: the component's "type", and typed fields with defaults.
std::string componentType(const nlohmann::json &json, const std::string &context);
bool boolField(const nlohmann::json &json, const char *name, bool fallback, const std::string &context);
std::string stringField(const nlohmann::json &json, const char *name, const std::string &context);
// A field holding exactly one character (Metaspace's replacement, Strip's content).
char32_t charField(const nlohmann::json &json, const char *name, const std::string &context);

} // namespace emloc::core::text
