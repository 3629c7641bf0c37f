#include "emloc/model/weight_loading.h"

#include "emloc/api/error.h"

namespace emloc::core {

namespace {
std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}
} // namespace

torch::Tensor loadTensor(const WeightSource &weights, const std::string &name,
                         const std::vector<int64_t> &shape, const TensorPlacement &placement)
{
    if (!weights.contains(name))
        throw Error(
            "the model has no tensor \"" + name + "\" (expected " + shapeText(shape) +
            " from config.json); the weights do not match the config or the architecture is not supported");
    auto found = weights.shape(name);
    if (found != shape)
        throw Error("tensor \"" + name + "\" has shape " + shapeText(found) + " but config.json implies " +
                    shapeText(shape) + "; the weights do not match the config");
    return weights.tensor(name).to(placement.device, placement.dtype).contiguous();
}

int64_t headDimOf(const ModelConfig &config)
{
    if (config.headDim > 0)
        return config.headDim;
    if (config.numHeads <= 0)
        throw Error("config.json has no num_attention_heads; cannot size the attention heads");
    return config.hiddenSize / config.numHeads;
}

} // namespace emloc::core
