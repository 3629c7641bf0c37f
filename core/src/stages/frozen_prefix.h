#pragma once
// The outputs of the frozen first decoder layers, kept per training example. When LoRA sits on the last
// layers only (refinement: the last 4 of 30 on the demo), every step would run the same frozen layers on
// the same examples again, epoch after epoch: most of a refinement step's time.

#include "emloc/model/causal_lm.h"
#include "emloc/text/dataset_tokenize.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace emloc::core {

class ImageInputs;

class FrozenPrefix
{
public:
    // Layers [0, layers) of `model` are frozen; at most `maxBytes` of their outputs are kept (the examples
    // met first; the others are computed again each time they come). `images`: a vision-language model's
    // examples start from their embeddings with their images in them.
    FrozenPrefix(CausalLM &model, const std::vector<TokenizedExample> &examples, int64_t layers,
                 int64_t maxBytes, const ImageInputs *images = nullptr);

    int64_t layers() const { return m_layers; }
    // [rows, length, hidden] after the frozen layers for a batch collated from the examples (padding zero).
    // Each example is computed alone, so its output does not depend on the batch it first came in.
    torch::Tensor hidden(const Batch &batch);

private:
    torch::Tensor compute(size_t example) const;

    CausalLM &m_model;
    const std::vector<TokenizedExample> &m_examples;
    const ImageInputs *m_images = nullptr;
    int64_t m_layers = 0;
    int64_t m_maxBytes = 0;
    int64_t m_bytes = 0;
    std::unordered_map<size_t, torch::Tensor> m_cache;
};

} // namespace emloc::core
