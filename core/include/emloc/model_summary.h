#pragma once

#include "emloc/model_files.h"

#include <cstdint>

namespace emloc::core {

// Parameters of a model by kind, counted from the stored tensor shapes (so biases and q/k norms count).
struct ParameterCounts
{
    int64_t embeddings = 0;
    int64_t attention = 0; // q/k/v/o projections and their biases
    int64_t mlp = 0;       // gate/up/down projections
    int64_t norms = 0;     // every RMSNorm weight, including qwen3's q/k norms
    int64_t lmHead = 0;    // 0 when tied to the embeddings
    int64_t other = 0;     // anything the engine does not use
    bool tiedEmbeddings = false;

    int64_t total() const { return embeddings + attention + mlp + norms + lmHead + other; }
};

ParameterCounts countParameters(const ModelFiles &files);

} // namespace emloc::core
