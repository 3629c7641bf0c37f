#include "emloc/model/decoder_layer.h"

#include "emloc/api/error.h"

namespace emloc::core {

LayerInputs prepareLayerInputs(const ModelConfig &config, const RotaryEmbedding &rope, int64_t batch,
                               int64_t length, const torch::Tensor &attentionMask, KVCache *cache,
                               const TensorPlacement &placement)
{
    const auto device = placement.device;
    const auto indexOptions = torch::dtype(torch::kInt64).device(device);
    if (attentionMask.defined() &&
        (attentionMask.dim() != 2 || attentionMask.size(0) != batch || attentionMask.size(1) != length))
        throw Error("the attention mask must be [batch, tokens] = [" + std::to_string(batch) + ", " +
                    std::to_string(length) + "] like the input ids");

    const int64_t past = cache ? cache->length() : 0;
    torch::Tensor keyMask;
    if (cache)
        keyMask = cache->beginStep(batch, length, attentionMask, device);
    else if (attentionMask.defined())
        keyMask = attentionMask.to(device, torch::kBool);
    // An all-ones mask is no mask: it keeps the fast causal path.
    if (keyMask.defined() && keyMask.all().item<bool>())
        keyMask = torch::Tensor();
    const int64_t total = past + length;

    LayerInputs inputs;
    if (keyMask.defined()) {
        auto stepMask = keyMask.narrow(1, past, length);
        inputs.positions = (keyMask.to(torch::kInt64).cumsum(1) - 1)
                               .narrow(1, past, length)
                               .masked_fill(stepMask.logical_not(), 1);
        inputs.tokenMask = stepMask;
    } else {
        inputs.positions = torch::arange(past, total, indexOptions).unsqueeze(0).expand({batch, length});
    }
    std::tie(inputs.cos, inputs.sin) = rope.cosSin(inputs.positions, placement.dtype);

    const bool windowed = config.slidingWindow > 0 && total > config.slidingWindow;
    if (!keyMask.defined() && !windowed) {
        if (past == 0)
            inputs.causal = length > 1;
        if (past == 0 || length == 1)
            return inputs; // a single new token may see everything cached
    }
    auto query = torch::arange(past, total, indexOptions).unsqueeze(1); // [T, 1]
    auto key = torch::arange(0, total, indexOptions).unsqueeze(0);      // [1, S]
    auto allowed = key <= query;
    if (windowed)
        allowed = allowed.logical_and(key > query - config.slidingWindow);
    auto mask = allowed.view({1, 1, length, total});
    if (keyMask.defined())
        mask = mask.logical_and(keyMask.view({batch, 1, 1, total}));
    // A padding query would see no key at all (NaN in SDPA, which then leaks through the values of the
    // next layer): let every query see itself.
    mask = mask.logical_or((key == query).view({1, 1, length, total}));
    inputs.mask = mask.expand({batch, 1, length, total});
    return inputs;
}

} // namespace emloc::core
