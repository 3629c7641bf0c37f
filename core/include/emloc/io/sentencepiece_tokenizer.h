#pragma once
// SentencePiece models (tokenizer.model, a protocol buffer) as the tokenizer.json the engine runs, for
// checkpoints that ship no tokenizer.json (InternLM2's, Llama 2's originals). The result tokenizes as the
// checkpoints' own slow tokenizers do (InternLM2Tokenizer, LlamaTokenizer with legacy behaviour): the
// added tokens split out first, then each piece of text encoded by SentencePiece (its dummy-prefix space
// included, per piece), BOS put first when tokenizer_config.json says so.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace emloc::core {

struct SentencePieceModel
{
    struct Piece
    {
        std::string text;
        float score = 0;
        int type = 1; // NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6
    };
    std::vector<Piece> pieces;
    int modelType = 1; // UNIGRAM 1, BPE 2, WORD 3, CHAR 4
    bool byteFallback = false;
    int unkId = 0, bosId = 1, eosId = 2, padId = -1;
    bool treatWhitespaceAsSuffix = false;
    std::string normalizerName; // "identity" (none) or a Unicode normalization such as "nmt_nfkc"
    bool addDummyPrefix = true;
    bool removeExtraWhitespaces = true;
    bool escapeWhitespaces = true;
};

// Error names the file and what is malformed (truncated, a field of the wrong wire type).
SentencePieceModel readSentencePieceModel(const std::string &path);

// tokenizer.json for a BPE model with identity normalization; `tokenizerConfig` (tokenizer_config.json)
// adds its added_tokens_decoder and add_bos_token / add_eos_token. Error naming the file and the setting
// for what it does not reproduce (a Unigram model, a normalization rule, whitespace collapsing).
nlohmann::json sentencePieceTokenizerJson(const SentencePieceModel &model,
                                          const nlohmann::json &tokenizerConfig,
                                          const std::string &sourceName);

// The folder's tokenizer.json, else its tokenizer.model converted, else an empty object.
nlohmann::json folderTokenizerJson(const std::string &folder, const nlohmann::json &tokenizerConfig);

} // namespace emloc::core
