#include "emloc/model/kv_cache.h"

#include "emloc/api/error.h"

namespace emloc::core {

KVCache::KVCache(int64_t numLayers) : m_layers(static_cast<size_t>(numLayers)) {}

torch::Tensor KVCache::beginStep(int64_t batch, int64_t stepLength, const torch::Tensor &stepMask,
                                 torch::Device device)
{
    m_pastLength = m_length;
    if (stepMask.defined() || m_keyMask.defined()) {
        auto past = m_keyMask.defined()
                        ? m_keyMask
                        : torch::ones({batch, m_pastLength}, torch::dtype(torch::kBool).device(device));
        auto step = stepMask.defined()
                        ? stepMask.to(device, torch::kBool)
                        : torch::ones({batch, stepLength}, torch::dtype(torch::kBool).device(device));
        if (past.size(0) != batch)
            throw Error("the KV cache holds a batch of " + std::to_string(past.size(0)) +
                        " sequences, the step has " + std::to_string(batch) + "; use one cache per batch");
        m_keyMask = torch::cat({past, step}, 1);
    }
    m_length = m_pastLength + stepLength;
    return m_keyMask;
}

std::pair<torch::Tensor, torch::Tensor> KVCache::update(int64_t layerIndex, const torch::Tensor &keys,
                                                        const torch::Tensor &values)
{
    Layer &layer = m_layers.at(static_cast<size_t>(layerIndex));
    const int64_t step = keys.size(2);
    const int64_t needed = layer.length + step;
    if (!layer.keys.defined() || needed > layer.keys.size(2)) {
        // Doubling keeps the total copy cost linear in the generated length.
        int64_t capacity =
            std::max<int64_t>(needed, layer.keys.defined() ? 2 * layer.keys.size(2) : needed + 64);
        auto sizes = keys.sizes().vec();
        sizes[2] = capacity;
        auto newKeys = torch::empty(sizes, keys.options());
        auto newValues = torch::empty(sizes, values.options());
        if (layer.length > 0) {
            newKeys.narrow(2, 0, layer.length).copy_(layer.keys.narrow(2, 0, layer.length));
            newValues.narrow(2, 0, layer.length).copy_(layer.values.narrow(2, 0, layer.length));
        }
        layer.keys = newKeys;
        layer.values = newValues;
    }
    layer.keys.narrow(2, layer.length, step).copy_(keys);
    layer.values.narrow(2, layer.length, step).copy_(values);
    layer.length = needed;
    return {layer.keys.narrow(2, 0, needed), layer.values.narrow(2, 0, needed)};
}

void KVCache::keepRows(const torch::Tensor &rows)
{
    torch::Tensor indices; // moved to the cache's device once, not once per layer
    for (auto &layer : m_layers) {
        if (!layer.keys.defined())
            continue;
        if (!indices.defined() || indices.device() != layer.keys.device())
            indices = rows.to(layer.keys.device());
        layer.keys = layer.keys.index_select(0, indices);
        layer.values = layer.values.index_select(0, indices);
    }
    if (m_keyMask.defined())
        m_keyMask = m_keyMask.index_select(0, rows.to(m_keyMask.device()));
}

void KVCache::clear()
{
    for (auto &layer : m_layers)
        layer = Layer{};
    m_keyMask = torch::Tensor();
    m_length = 0;
    m_pastLength = 0;
}

int64_t KVCache::bytes() const
{
    int64_t total = 0;
    for (const auto &layer : m_layers)
        if (layer.keys.defined())
            total += (layer.keys.numel() + layer.values.numel()) * layer.keys.element_size();
    return total;
}

} // namespace emloc::core
