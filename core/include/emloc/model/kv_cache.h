#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace emloc::core {

// Keys and values of every decoder layer for the tokens seen so far, so a generation step costs one
// token. Buffers grow by doubling (no copy of the whole cache per step). Also remembers which cached
// positions are real tokens (padding of a batch) so later steps mask them. Owned by the caller of
// CausalLM::forward; one cache per sequence batch; not thread-safe.
class KVCache
{
public:
    explicit KVCache(int64_t numLayers);

    // Tokens cached (including padding positions), as of the last completed step.
    int64_t length() const { return m_length; }
    // [B, length] bool, true for real tokens; undefined while no padding was ever given.
    const torch::Tensor &keyMask() const { return m_keyMask; }

    // Called once per forward step before the layers run: `stepMask` [B, T] (undefined: all real).
    // Returns the key mask over past + new positions (undefined when all are real).
    torch::Tensor beginStep(int64_t batch, int64_t stepLength, const torch::Tensor &stepMask,
                            torch::Device device);
    // Appends one layer's new keys/values [B, kvHeads, T, headDim]; returns all of them (views).
    std::pair<torch::Tensor, torch::Tensor> update(int64_t layer, const torch::Tensor &keys,
                                                   const torch::Tensor &values);
    // Past length seen by the layers during the current step.
    int64_t pastLength() const { return m_pastLength; }

    // Keeps only the batch rows `rows` (int64 indices, in their new order): a batched generation drops the
    // sequences that have finished, so later steps cost only the ones still running.
    void keepRows(const torch::Tensor &rows);

    void clear();
    int64_t bytes() const;

private:
    struct Layer
    {
        torch::Tensor keys; // [B, kvHeads, capacity, headDim]
        torch::Tensor values;
        int64_t length = 0;
    };
    std::vector<Layer> m_layers;
    torch::Tensor m_keyMask;
    int64_t m_length = 0;
    int64_t m_pastLength = 0;
};

} // namespace emloc::core
