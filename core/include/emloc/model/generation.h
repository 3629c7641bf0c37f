#pragma once

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emloc::core {

// How to pick each new token. temperature <= 0 means greedy (argmax), as do_sample=False in
// transformers; otherwise sampling with the warpers applied in transformers' order: repetition
// penalty, temperature, top-k, top-p.
struct GenerationOptions
{
    int64_t maxNewTokens = 128;
    double temperature = 0.0;
    int64_t topK = 0;               // 0: off
    double topP = 1.0;              // 1: off
    double repetitionPenalty = 1.0; // 1: off; applies to prompt and generated tokens, as transformers does
    uint64_t seed = 0;
    std::vector<int64_t> stopTokenIds; // generation ends after emitting one of them
};

struct GenerationResult
{
    std::vector<int64_t> tokens; // new tokens only, including the stop token when one ended it
    enum class StopReason { StopToken, MaxNewTokens, Callback } stopReason = StopReason::MaxNewTokens;
    int64_t promptTokens = 0;
    double prefillSeconds = 0;
    double decodeSeconds = 0; // all steps after the first token
};

// Receives each new token as soon as it is chosen; returning false stops the generation.
using TokenCallback = std::function<bool(int64_t token)>;

// Generates a continuation of one prompt with a KV cache (each step runs one token through the model).
// feedback: checkpoint() between steps (cancel throws CancelledError) and progress("generate").
GenerationResult generate(CausalLM &model, const std::vector<int64_t> &promptIds,
                          const GenerationOptions &options, const TokenCallback &onToken = {},
                          Feedback *feedback = nullptr);

// Continues several prompts at once, as generate() continues each alone: the prompts are left-padded
// into one batch with one KV cache, and a sequence that stops leaves the batch, so each step costs only
// the sequences still running. Sampling seeds each sequence with options.seed, as generate() does.
// One result per prompt, in order (prefillSeconds and decodeSeconds are the batch's). Error when a
// prompt is empty. feedback: checkpoint() between steps and progress("generate").
std::vector<GenerationResult> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                            const GenerationOptions &options, Feedback *feedback = nullptr);

// Turns last-position logits [vocab] into the next token; `history` is prompt + generated so far.
// `generator` is only used when sampling.
int64_t pickNextToken(const torch::Tensor &logits, const std::vector<int64_t> &history,
                      const GenerationOptions &options, torch::Generator &generator);

// transformers' RepetitionPenaltyLogitsProcessor on one row: logits of tokens in `history` are divided
// by `penalty` when positive and multiplied when negative.
torch::Tensor applyRepetitionPenalty(const torch::Tensor &logits, const std::vector<int64_t> &history,
                                     double penalty);
// TopKLogitsWarper and TopPLogitsWarper (min_tokens_to_keep = 1) on one row: removed logits become -inf.
torch::Tensor applyTopK(const torch::Tensor &logits, int64_t topK);
torch::Tensor applyTopP(const torch::Tensor &logits, double topP);

class ChatTemplate;
class Tokenizer;

// The model's stop tokens: generation_config.json's eos_token_id (an id or a list) and config.json's.
std::vector<int64_t> stopTokensFor(const ModelFiles &files);
// The token the template closes an assistant turn with (<|im_end|>, <|eot_id|>, </s>, ...): the first
// special token after the answer when the template renders a user / assistant exchange. -1 when the
// template closes the turn with plain text or no token at all.
int64_t endOfTurnToken(const ChatTemplate &chatTemplate, const Tokenizer &tokenizer);
// What a chat answer stops at: the model's stop tokens and the template's end of turn, sorted, unique.
std::vector<int64_t> stopTokensFor(const ModelFiles &files, const ChatTemplate &chatTemplate,
                                   const Tokenizer &tokenizer);

} // namespace emloc::core
