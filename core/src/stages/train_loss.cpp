#include "frozen_prefix.h"

#include "emloc/api/error.h"
#include "emloc/model/throughput.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/train_loop.h"

namespace emloc::core {

LayerInputs packedLayerInputs(const CausalLM &model, const Batch &batch)
{
    const auto &placement = model.placement();
    const auto device = placement.device;
    const int64_t length = batch.inputIds.size(1);
    LayerInputs inputs;
    inputs.positions = batch.positionIds.to(device);
    std::tie(inputs.cos, inputs.sin) = model.rope().cosSin(inputs.positions, placement.dtype);
    auto documents = batch.documentIds.to(device);
    auto index = torch::arange(length, torch::dtype(torch::kInt64).device(device));
    auto query = index.view({length, 1});
    auto key = index.view({1, length});
    auto allowed = (key <= query).unsqueeze(0); // [1, T, T]
    if (model.config().slidingWindow > 0)
        allowed = allowed.logical_and((key > query - model.config().slidingWindow).unsqueeze(0));
    auto sameDocument = documents.unsqueeze(2) == documents.unsqueeze(1); // [B, T, T]
    auto realKey = (documents >= 0).unsqueeze(1);
    auto mask = allowed.logical_and(sameDocument).logical_and(realKey);
    // Padding queries see themselves (no empty softmax rows).
    mask = mask.logical_or((key == query).unsqueeze(0));
    inputs.mask = mask.unsqueeze(1);
    inputs.tokenMask = documents >= 0;
    return inputs;
}

LossSum batchLossSum(CausalLM &model, const Batch &batch, const LoraAttachment *lora, bool checkpointing,
                     FrozenPrefix *prefix, const ImageInputs *images)
{
    const auto device = model.placement().device;
    const int64_t rows = batch.inputIds.size(0);
    const int64_t length = batch.inputIds.size(1);
    if (length < 2)
        throw Error("a training batch needs at least two tokens per row");
    auto ids = batch.inputIds.to(device);
    auto hidden = prefix   ? prefix->hidden(batch)
                  : images ? images->embed(model, ids, batch.images)
                           : model.embed(ids);
    const bool packed = batch.documentIds.defined() && batch.documentIds.max().item<int64_t>() > 0;
    LayerInputs inputs = packed ? packedLayerInputs(model, batch)
                                : model.prepareInputs(rows, length, batch.attentionMask.to(device));
    const bool recompute = checkpointing && torch::GradMode::is_enabled();
    for (int64_t i = prefix ? prefix->layers() : 0; i < model.numLayers(); ++i) {
        if (recompute) {
            auto parameters = lora ? lora->layerParameters(i) : std::vector<torch::Tensor>{};
            hidden = runLayerCheckpointed(model, i, hidden, inputs, parameters);
        } else {
            hidden = model.runLayer(i, hidden, inputs);
        }
    }
    // The head only on positions that are trained: with a large vocabulary the logits of every position
    // would dominate memory.
    auto labels = batch.labels.narrow(1, 1, length - 1).to(device);
    auto selected = labels != kIgnoreLabel;
    auto rowsOfHidden = hidden.narrow(1, 0, length - 1).index({selected});
    auto targets = labels.index({selected});
    LossSum result;
    result.tokens = targets.size(0);
    if (result.tokens == 0) {
        result.sum = hidden.sum().mul(0).to(torch::kFloat32); // keeps the graph; contributes nothing
        return result;
    }
    auto logits = model.lmHead(model.finalNorm(rowsOfHidden));
    if (logits.scalar_type() !=
        torch::kFloat64) // 16-bit logits lose the loss; float64 serves gradient checks
        logits = logits.to(torch::kFloat32);
    result.sum = torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    return result;
}

double estimateStepFlops(const ModelConfig &config, int64_t linearParameters, int64_t rows, int64_t length,
                         int64_t trainedTokens, bool checkpointing)
{
    const double tokens = static_cast<double>(rows * length);
    const double passes = checkpointing ? 3 : 2;
    const double linear = 2.0 * static_cast<double>(linearParameters) * tokens * passes;
    const double attention = attentionFlops(config, rows, length) * (passes + 1);
    const double head = 2.0 * static_cast<double>(trainedTokens) * static_cast<double>(config.vocabSize) *
                        static_cast<double>(config.hiddenSize) * 2;
    return linear + attention + head;
}

} // namespace emloc::core
