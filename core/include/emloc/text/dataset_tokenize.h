#pragma once

#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/tokenizer.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

// Label of a token the loss ignores (prompt, padding), as PyTorch's cross_entropy ignore_index.
constexpr int64_t kIgnoreLabel = -100;

struct TokenizeOptions
{
    int64_t maxLength = 2048;      // tokens per example after truncation; 0: no limit
    bool trainOnAllTokens = false; // false: only assistant / response tokens carry labels
    std::string systemPrompt;      // added as the system turn of conversations that have none
};

// One record as token ids with labels aligned to them (the model shifts labels itself, as transformers
// does): kIgnoreLabel on every token that is not trained.
struct TokenizedExample
{
    int64_t recordNumber = 0;
    std::vector<int64_t> inputIds;
    std::vector<int64_t> labels;
    int64_t untruncatedLength = 0;
    bool truncated = false;
    // The record's images (DatasetRecord::images), in the order of their tokens in inputIds.
    std::vector<std::string> images;
};

// The outcome of tokenizing one record: an example, or the reason it cannot be trained on.
struct TokenizeResult
{
    bool ok = false;
    TokenizedExample example;
    std::string skipReason; // short and stable ("no assistant turn"): statistics count records per reason
    std::string detail;     // for people: names the record
    bool notPrefixStable = false; // the template rewrites earlier turns once later ones follow
};

// The conversation a record becomes under `chatTemplate` (Alpaca's input joined to the instruction; the
// system prompt added when the record has none).
std::vector<ChatMessage> conversationFor(const DatasetRecord &record, const ChatTemplate &chatTemplate,
                                         const std::string &systemPrompt);

// Renders the record with the template and tokenizes it. Assistant turns are found by rendering each
// conversation prefix (with the generation prompt) and the conversation up to that turn, tokenizing both
// and taking their longest common token prefix with the full text's tokens, so a token that merges across
// a turn boundary is handled as the tokenizer sees it. Text records and "plain"/"alpaca" templates are
// tokenized with the tokenizer's special tokens (e.g. BOS) and end with EOS. Thread-safe.
TokenizeResult tokenizeRecord(const DatasetRecord &record, const ChatTemplate &chatTemplate,
                              const Tokenizer &tokenizer, const TokenizeOptions &options);

// A deterministic permutation of 0..n-1: Fisher-Yates driven by std::mt19937_64(seed), j = rng() % (i + 1),
// so the order is identical with every standard library.
std::vector<size_t> shuffledIndices(size_t n, uint64_t seed);

struct DatasetSplit
{
    std::vector<TokenizedExample> train;
    std::vector<TokenizedExample> validation;
};

// Holds out `validationCount` examples (when > 0) or round(fraction * n), chosen by a seeded shuffle; both
// parts keep the file order. Throws Error when the hold-out would leave no training example.
DatasetSplit splitTrainValidation(std::vector<TokenizedExample> examples, double validationFraction,
                                  int64_t validationCount, uint64_t seed);

// One step's tensors, all int64 [rows, length] on the CPU.
struct Batch
{
    torch::Tensor inputIds;
    torch::Tensor labels; // kIgnoreLabel on untrained tokens, padding and the first token of packed documents
    torch::Tensor attentionMask; // 1 on tokens, 0 on padding
    torch::Tensor positionIds;   // restart at 0 for each packed document
    torch::Tensor
        documentIds;    // index of the document within its row, -1 on padding: attention must not cross it
    int64_t tokens = 0; // non-padding tokens
    int64_t trainedTokens = 0;                    // labels that count in the loss (after the shift)
    std::vector<std::vector<size_t>> exampleRows; // the examples of each row, in order
    std::vector<std::string> images;              // the examples' images in reading order, row by row
};

struct BatchOptions
{
    int64_t batchSize = 4; // rows per batch
    bool packing = false;  // concatenate several examples per row
    int64_t rowLength =
        0; // packing: tokens per row (0: the longest example); padding: pad to the longest in batch
    int64_t padId = 0;
    bool shuffle = true;
    uint64_t seed = 0;
};

// Rows of example indices grouped into batches: one example per row when padding, greedy in (shuffled) order
// when packing (a row takes examples while they fit). The epoch varies the shuffle deterministically.
std::vector<std::vector<std::vector<size_t>>> planBatches(const std::vector<TokenizedExample> &examples,
                                                          const BatchOptions &options, int64_t epoch = 0);

// Builds a batch from planned rows (right padding with padId).
Batch collateBatch(const std::vector<TokenizedExample> &examples,
                   const std::vector<std::vector<size_t>> &rows, const BatchOptions &options);

} // namespace emloc::core
