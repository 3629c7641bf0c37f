#pragma once
// Tokenizers between GGUF metadata (tokenizer.ggml.*) and Hugging Face tokenizer.json, following what
// transformers builds from a GGUF (integrations/gguf/gguf_tokenizer_mapping.py) so that both tokenize
// identically.

#include "emloc/io/gguf_file.h"

#include <nlohmann/json.hpp>

#include <string>
#include <unordered_map>
#include <vector>

namespace emloc::core {

// tokenizer.json rebuilt from the file's tokenizer.ggml.* metadata ("gpt2": byte-level BPE with the
// split regex tokenizer.ggml.pre names; "llama": SentencePiece-style BPE with byte fallback, merges
// from the file or ranked by the token scores). Error names the file when it has no usable tokenizer.
nlohmann::json ggufTokenizerJson(const GgufFile &file);
// tokenizer_config.json: bos/eos/unk/pad strings, add_bos_token/add_eos_token, chat_template.
nlohmann::json ggufTokenizerConfig(const GgufFile &file);
// generation_config.json: bos/eos/pad ids.
nlohmann::json ggufGenerationConfig(const GgufFile &file);

// The tokenizer.ggml.* metadata (and tokenizer.chat_template) describing a Hugging Face tokenizer.json
// + tokenizer_config.json, as llama.cpp's convert_hf_to_gguf.py writes them. `sourceName` names the
// model in errors (an unsupported tokenizer model type).
void addGgufTokenizerMetadata(GgufWriter &writer, const nlohmann::json &tokenizerJson,
                              const nlohmann::json &tokenizerConfig, int64_t vocabSize,
                              const std::string &sourceName);

// Pieces shared with the SentencePiece conversion (sentencepiece_tokenizer.cpp):
// BPE merges ranked by the merged token's score, as transformers' SentencePieceExtractor ranks them;
nlohmann::json mergesFromScores(const std::vector<std::string> &tokens, const std::vector<double> &scores,
                                const std::unordered_map<std::string, int64_t> &vocab);
// one added_tokens entry;
nlohmann::json addedToken(int64_t id, const std::string &content, bool special);
// a TemplateProcessing post-processor putting BOS / EOS around the text.
nlohmann::json templateProcessing(const std::string &bos, int64_t bosId, bool addBos, const std::string &eos,
                                  int64_t eosId, bool addEos);

// Copies every tokenizer.* key of an existing GGUF verbatim.
void copyGgufTokenizerMetadata(GgufWriter &writer, const GgufFile &source);

} // namespace emloc::core
