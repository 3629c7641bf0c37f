#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

// A Hugging Face tokenizer.json, run exactly as the `tokenizers` library runs it: BPE models in the
// byte-level family (GPT-2, Llama 3, Qwen, SmolLM) and the SentencePiece family (Llama 2, Mistral,
// TinyLlama: Metaspace / replace+prepend normalizers, byte fallback); added and special tokens;
// NFC normalisation where the file asks for it. Immutable after construction; thread-safe.
class Tokenizer
{
public:
    // Error names `sourceName` and the unsupported or malformed part.
    static std::shared_ptr<Tokenizer> fromJson(const nlohmann::json &tokenizerJson,
                                               const std::string &sourceName);
    static std::shared_ptr<Tokenizer> fromFile(const std::string &tokenizerJsonPath);
    virtual ~Tokenizer() = default;

    // addSpecialTokens applies the file's post-processor (e.g. a BOS token), as tokenizers does.
    virtual std::vector<int64_t> encode(const std::string &text, bool addSpecialTokens = false) const = 0;
    // skipSpecialTokens drops special added tokens, as tokenizers' decode(..., skip_special_tokens).
    virtual std::string decode(const std::vector<int64_t> &ids, bool skipSpecialTokens = false) const = 0;
    // Highest id in use + 1, added tokens included: the rows an embedding table needs (equal to
    // tokenizers' get_vocab_size(True) when the ids have no gaps).
    virtual int64_t vocabSize() const = 0;
    virtual int64_t tokenToId(const std::string &token) const = 0; // -1 when absent
    virtual std::string idToToken(int64_t id) const = 0;           // "" when absent
    virtual bool isSpecial(int64_t id) const = 0;
};

} // namespace emloc::core
