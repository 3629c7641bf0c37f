#pragma once
// Generation whose first step is computed by the caller: a vision-language model splices its images
// into the prompt's embeddings there, then every later step runs the language model on one token.

#include "emloc/model/generation.h"

#include <functional>

namespace emloc::core {

// Returns the final-normed hidden states [1, T, hidden] of the prompt ids [1, T], filling `cache`.
using PrefillStep = std::function<torch::Tensor(const torch::Tensor &promptIds, KVCache &cache)>;

// generate() with the prompt's step run by `prefill` (an empty one runs the language model alone).
GenerationResult generateWithPrefill(CausalLM &model, const std::vector<int64_t> &promptIds,
                                     const PrefillStep &prefill, const GenerationOptions &options,
                                     const TokenCallback &onToken = {}, Feedback *feedback = nullptr);

} // namespace emloc::core
