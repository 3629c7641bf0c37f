// The full model's loss on the calibration samples, with every layer resident: what inference costs.
#include "emloc/stages/calibration.h"

#include "emloc/api/device.h"
#include "emloc/api/stages.h"
#include "emloc/model/causal_lm.h"
#include "emloc/util/memory.h"

#include <chrono>

namespace emloc::core {

LossEvaluation evaluateLoss(const ModelFiles &files, const CalibrationSet &set, const std::string &device,
                            int64_t batchSize, Feedback &feedback)
{
    const auto start = std::chrono::steady_clock::now();
    MemoryMeter meter(device);
    meter.reset();
    torch::NoGradGuard noGrad;
    CausalLMOptions options;
    options.placement.device = torch::Device(parseDevice(device).toString());
    options.placement.dtype = parseComputeDtype("auto", options.placement.device);
    CausalLM model(files, options, &feedback);

    const auto chunks = calibrationChunks(set, batchSize);
    double lossSum = 0;
    LossEvaluation result;
    for (size_t i = 0; i < chunks.size(); ++i) {
        feedback.checkpoint();
        feedback.stageProgress(Stage::Evaluate, static_cast<int64_t>(i), static_cast<int64_t>(chunks.size()));
        const auto &chunk = chunks[i];
        auto logits = model.forward(chunk.ids, chunk.attentionMask);
        auto targets = chunk.ids.slice(1, 1).to(logits.device()).clone();
        if (chunk.attentionMask.defined())
            targets.masked_fill_(chunk.attentionMask.slice(1, 1).to(logits.device()) == 0, -100);
        auto predicted = logits.slice(1, 0, -1).to(torch::kFloat32);
        auto loss = torch::nn::functional::cross_entropy(
            predicted.reshape({-1, predicted.size(-1)}), targets.reshape({-1}),
            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
        lossSum += loss.item<double>();
        result.tokens += (targets != -100).sum().item<int64_t>();
        result.sequences += chunk.ids.size(0);
    }
    feedback.stageProgress(Stage::Evaluate, static_cast<int64_t>(chunks.size()),
                           static_cast<int64_t>(chunks.size()));
    result.loss = result.tokens > 0 ? lossSum / double(result.tokens) : 0.0;
    const MemoryReading reading = meter.read();
    result.peakMemoryBytes = reading.peakBytes;
    result.currentMemoryBytes = reading.currentBytes;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace emloc::core
