#pragma once

#include "emloc/io/model_files.h"

#include <cstdint>
#include <string>
#include <vector>

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

// The tensors of one storage type in the model's files ("Q4_1", "F32", "BF16"; "unknown" for weights
// from no file).
struct StoredType
{
    std::string type;
    int64_t tensors = 0;
    int64_t parameters = 0;
};

// Every storage type of the weights, the one holding most parameters first: for a quantised GGUF that
// is its quantisation (norms stay F32 and embeddings often Q8_0).
std::vector<StoredType> storedTypes(const ModelFiles &files);

// "Q4_1" when one type holds every tensor, else "mixed: Q4_1 (168 tensors), Q8_0 (1), F32 (61)".
std::string describeStoredTypes(const std::vector<StoredType> &types);

} // namespace emloc::core
