#pragma once
// Tensor names between Hugging Face (model.layers.N.self_attn.q_proj.weight) and llama.cpp
// (blk.N.attn_q.weight), and llama.cpp's q/k row order for its RoPE implementation.

#include "emloc/io/model_config.h"

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// Every (Hugging Face name, GGUF name) pair a model of this config can have, in llama.cpp's order
// (embeddings, then per layer, then output); optional ones (biases, q/k norms, lm_head) included.
std::vector<std::pair<std::string, std::string>> ggufTensorNames(const ModelConfig &config);

// Heads to permute the rows of this Hugging Face tensor by for llama.cpp (q: heads, k: kv heads),
// 0 when it is not permuted (everything but llama-family q/k projections).
int64_t qkPermutationHeads(const ModelConfig &config, const std::string &hfName);

// convert_hf_to_gguf.py's LlamaModel.permute: within each head, the interleaved (even, odd) rotary
// pairs of llama.cpp become the two halves Hugging Face's rotate_half expects (unpermute), and back.
torch::Tensor permuteQk(const torch::Tensor &weight, int64_t heads);
torch::Tensor unpermuteQk(const torch::Tensor &weight, int64_t heads);

// llama.cpp's rope_freqs.weight for Llama 3 RoPE scaling: one wavelength factor per rotary pair.
torch::Tensor llama3RopeFactors(const ModelConfig &config);

} // namespace emloc::core
