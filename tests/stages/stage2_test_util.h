#pragma once
// Tiny random models and token sequences for the stage-2 suites.

#include "../model/model_test_util.h"

#include "emloc/model/causal_lm.h"
#include "emloc/text/dataset_tokenize.h"

#include <memory>
#include <vector>

namespace emloc::test {

inline std::unique_ptr<core::CausalLM> tinyModel(torch::ScalarType dtype = torch::kFloat32,
                                                 int64_t layers = 3, uint64_t seed = 11)
{
    auto config = smallConfig("llama");
    config.numLayers = layers;
    core::CausalLMOptions options;
    options.placement.dtype = dtype;
    return std::make_unique<core::CausalLM>(config, randomWeights(config, seed), options);
}

// `count` random sequences of `length` tokens; the first `prompt` tokens carry no label.
inline std::vector<core::TokenizedExample> randomExamples(int64_t count, int64_t length, int64_t prompt,
                                                          uint64_t seed, int64_t vocab = 96)
{
    torch::manual_seed(seed);
    std::vector<core::TokenizedExample> examples;
    for (int64_t i = 0; i < count; ++i) {
        core::TokenizedExample example;
        example.recordNumber = i + 1;
        const int64_t n = length - (i % 3); // uneven lengths: padding matters
        auto ids = torch::randint(3, vocab, {n}, torch::kInt64);
        for (int64_t t = 0; t < n; ++t) {
            example.inputIds.push_back(ids[t].item<int64_t>());
            example.labels.push_back(t < prompt ? core::kIgnoreLabel : example.inputIds.back());
        }
        example.untruncatedLength = n;
        examples.push_back(std::move(example));
    }
    return examples;
}

} // namespace emloc::test
