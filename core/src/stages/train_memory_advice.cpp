#include "train_memory_advice.h"

#include "emloc/plan/memory_plan.h"
#include "emloc/util/memory.h"

#include <algorithm>
#include <cmath>

namespace emloc::core {

std::string outOfMemoryAdvice(const ModelConfig &config, const TrainOptions &options,
                              int64_t denseLinearParameters, int64_t sequenceLength, bool cuda)
{
    PlanSettings settings;
    settings.batchSize = options.batchSize;
    settings.sequenceLength = std::max<int64_t>(1, sequenceLength);
    settings.loraRank = options.lora.rank;
    settings.loraTargets = options.lora.targets;
    settings.gradientCheckpointing = options.gradientCheckpointing;
    settings.cuda = cuda;
    // The ratio whose emulator has as many projection parameters as this model: 1 for the original.
    const int64_t headDim = config.headDim > 0 ? config.headDim : config.hiddenSize / config.numHeads;
    const int64_t q = config.numHeads * headDim, kv = config.numKeyValueHeads * headDim;
    const int64_t fullProjections =
        config.numLayers * (2 * config.hiddenSize * q + 2 * config.hiddenSize * kv +
                            3 * config.hiddenSize * config.intermediateSize);
    const int64_t target =
        emulatorParameterCount(config, 1.0, false) - fullProjections + denseLinearParameters;
    double ratio = 1.0;
    if (denseLinearParameters < fullProjections)
        for (int percent = 100; percent >= 5; --percent) {
            ratio = percent / 100.0;
            if (emulatorParameterCount(config, ratio) <= target)
                break;
        }
    const MemoryPlan plan = planMemory(config, settings, ratio);
    const StageEstimate &estimate = ratio >= 0.999 ? plan.fullLora : plan.fineTuning;
    std::string text = "The planner's estimate of this run (" + estimate.stage + ", batch " +
                       std::to_string(options.batchSize) + " x " + std::to_string(settings.sequenceLength) +
                       " tokens): ";
    for (size_t i = 0; i < estimate.items.size(); ++i)
        text += (i ? ", " : "") + estimate.items[i].name + " " + formatBytes(estimate.items[i].bytes);
    text += "; total " + formatBytes(estimate.totalBytes()) + ". ";
    if (options.batchSize > 1)
        text += "Try --batch " + std::to_string(options.batchSize / 2) + " --grad-accum " +
                std::to_string(options.gradAccum * 2) + " (the same effective batch)";
    else
        text += "Try a shorter --max-length (now " + std::to_string(settings.sequenceLength) + ")";
    if (!options.gradientCheckpointing)
        text += ", or drop --no-checkpointing";
    text += ", or build the emulator at a lower ratio.";
    return text;
}

} // namespace emloc::core
