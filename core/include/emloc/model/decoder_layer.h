#pragma once

#include "emloc/io/model_config.h"
#include "emloc/io/model_files.h"
#include "emloc/model/kv_cache.h"
#include "emloc/model/linear.h"
#include "emloc/model/rotary_embedding.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

// Where and in which dtype a model or a layer lives: float32 on the CPU; bfloat16 or float16 on CUDA.
struct TensorPlacement
{
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
};

// RMSNorm as transformers computes it: the statistics in float32, the result cast back to x's dtype,
// then multiplied by `weight`.
torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps);

// What every decoder layer of one forward step shares: rotary cos/sin for the positions of the new
// tokens and the attention pattern (causal, padding, sliding window). Built once per step.
struct LayerInputs
{
    torch::Tensor cos; // [B, T, headDim], compute dtype
    torch::Tensor sin;
    torch::Tensor mask;  // [B, 1, T, S] bool, true = may attend; undefined when `causal` or no mask needed
    bool causal = false; // plain causal attention over the T new tokens (no cache, no padding)
    torch::Tensor tokenMask; // [B, T] bool, true for real tokens; undefined when all are real
    torch::Tensor positions; // [B, T] int64
};

// Builds the inputs for `length` new tokens of a batch. `attentionMask` [B, T] (1 = token, 0 = padding;
// undefined = no padding). With a cache, registers the step in it (positions continue after the
// cached tokens). Positions follow transformers' generate(): the count of real tokens before each one,
// so a left-padded sequence sees the same positions as unpadded.
LayerInputs prepareLayerInputs(const ModelConfig &config, const RotaryEmbedding &rope, int64_t batch,
                               int64_t length, const torch::Tensor &attentionMask, KVCache *cache,
                               const TensorPlacement &placement);

// Called once per distinct projection input during forward: `linearNames` are the full Hugging Face
// module names that read it (q/k/v share one input, gate/up another, o_proj and down_proj have their
// own), `rows` is [tokens, features] with padding tokens removed. Runs on the forward's thread; the
// tensor is only valid during the call unless the observer keeps a reference.
using LinearInputObserver =
    std::function<void(const std::vector<std::string> &linearNames, const torch::Tensor &rows)>;

// One Llama-family decoder block (llama, mistral, qwen2 with q/k/v biases, qwen3 with q/k norms):
// pre-norm attention with grouped-query heads and rotary positions, then a SwiGLU MLP. Usable alone,
// which is how layers are streamed from disk one at a time. Projections sit in swappable slots.
class DecoderLayer
{
public:
    // Reads "model.layers.<index>.*" from `weights` and converts to `placement`. Error names the tensor
    // that is missing or has the wrong shape.
    DecoderLayer(const ModelConfig &config, const WeightSource &weights, int64_t index,
                 const TensorPlacement &placement);

    // hidden: [B, T, hidden] in the compute dtype. With a cache, appends this layer's keys/values.
    torch::Tensor forward(const torch::Tensor &hidden, const LayerInputs &inputs, KVCache *cache = nullptr,
                          const LinearInputObserver &observer = {}) const;

    int64_t index() const { return m_index; }
    std::string prefix() const; // "model.layers.<index>."
    // The projections' local names in forward order: self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj.
    static const std::vector<std::string> &linearNames();
    // The slot of a projection by local name; assign to swap it. Error lists the valid names.
    std::shared_ptr<Linear> &linearSlot(const std::string &localName);
    const std::shared_ptr<Linear> &linear(const std::string &localName) const;
    // All tensors under full Hugging Face names ("model.layers.3.mlp.up_proj.weight").
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const;
    void to(const TensorPlacement &placement);

private:
    ModelConfig m_config;
    int64_t m_index = 0;
    std::vector<std::shared_ptr<Linear>> m_linears; // in linearNames() order
    std::vector<std::string> m_linearNamesFull;
    torch::Tensor m_inputNorm;
    torch::Tensor m_postAttentionNorm;
    torch::Tensor m_qNorm; // qwen3 only
    torch::Tensor m_kNorm;
    std::vector<std::string> m_qkvNames, m_oNames, m_gateUpNames, m_downNames;
};

} // namespace emloc::core
