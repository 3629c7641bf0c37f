#pragma once

#include "emloc/api/projections.h"
#include "emloc/io/model_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

// What the planner needs to know about a run besides the model's shape.
struct PlanSettings
{
    int64_t batchSize = 2;
    int64_t sequenceLength = 512;
    int64_t loraRank = 8;
    // Local projection names that get LoRA ("q_proj", ... "down_proj").
    std::vector<std::string> loraTargets = decoderProjections();
    bool gradientCheckpointing = true;
    bool cuda = false;      // CUDA: bf16 weights and activations; CPU: float32
    int64_t valueBytes = 0; // bytes per weight and activation value (2: bf16/fp16, 4: fp32); 0: by device
    int64_t calibrationSamples = 64;
    int64_t calibrationSequenceLength = 512;
    int64_t calibrationChunk = 4; // sequences passed through a layer at once in stage 1
    bool gramFloat64 = false;
    bool keepLastDownProjDense = true;
    // Refinement (refine.h): LoRA of the last N decoder layers trained on the original model; 0: none.
    int64_t refineLayers = 0;
    // Refinement keeps the outputs of its frozen layers per example (TrainOptions::frozenPrefixBytes):
    // -1 plans the trainer's default, a quarter of the weights.
    int64_t frozenPrefixBytes = -1;
    // A vision-language model's vision tower and projector (vision/vision_plan.h): resident beside the
    // language model in inference and every training stage, run before the layers stream in stage 1.
    int64_t visionParameters = 0;
    // The tower's peak on one chunk of tiles, in values: bytes at whatever value size the stage plans.
    int64_t visionActivationValues = 0;
    // The emulator's tower (compressed at EmulatorOptions::visionRatio) and projector, which fine-tuning
    // holds instead; 0: the tower is not compressed (visionParameters).
    int64_t visionEmulatorParameters = 0;
    // Stage 1 compressing the tower: one tower layer's Grams and SVD workspace, and on the CPU the
    // calibration tiles' hidden states (on CUDA they wait in host memory).
    int64_t visionCompressionBytes = 0;
    // Memory the runtime takes before any tensor: the CUDA context or LibTorch's own RSS on the CPU.
    // Negative: the planner's default for the device.
    int64_t runtimeOverheadBytes = -1;
};

// What one of `processes` data-parallel processes (`emloc run --nproc/--gpus`, torchrun) holds: its share
// of the calibration samples in stage 1, and, when a step has fewer micro-batches (`gradAccum`) than
// processes, its rows of each micro-batch in stage 2; otherwise a process holds what one process would.
PlanSettings processShare(PlanSettings settings, int processes, int64_t gradAccum);

// What refinement keeps of its frozen layers' outputs at most: settings.frozenPrefixBytes, or a quarter of
// the model's weights.
int64_t frozenPrefixCapBytes(const ModelConfig &config, const PlanSettings &settings);

// Bytes per weight and activation value the planner uses: settings.valueBytes, or the device's (bf16 on
// CUDA, float32 on the CPU).
int64_t valueBytesOf(const PlanSettings &settings);

// One line of an itemised estimate.
struct MemoryItem
{
    std::string name; // "weights", "LoRA weights", "gradients", "optimizer states", "activations", ...
    int64_t bytes = 0;
};

struct StageEstimate
{
    std::string stage; // "inference", "construction", "fine-tuning", "correction", "full LoRA"
    std::vector<MemoryItem> items;
    int64_t totalBytes() const;
};

// The predicted peak of every stage at one compression ratio.
struct MemoryPlan
{
    double ratio = 0;
    int64_t emulatorParameters = 0;
    int64_t loraParameters = 0;
    StageEstimate inference;    // (a) the original model, forward of one batch, no gradients
    StageEstimate construction; // (b) stage 1, streamed layer by layer
    StageEstimate fineTuning;   // (c) stage 2, LoRA on the emulator
    StageEstimate correction;   // (d) stage 3, streamed layer by layer
    StageEstimate fullLora;     // the baseline: LoRA on the whole original model
    // Refinement of the last settings.refineLayers layers on the original (no items when off). It does
    // not depend on the ratio, so it is not in peakBytes(): a budget it exceeds skips it, not the run.
    StageEstimate refinement;
    // The largest of the three EMLoC stages: what has to fit in the budget.
    int64_t peakBytes() const;
};

// Parameters of the emulator at `ratio` (the rule of method.md: every projection of every block at
// rank floor(ratio m n / (m + n)), the last block's down_proj dense; embeddings, norms, head dense).
int64_t emulatorParameterCount(const ModelConfig &config, double ratio, bool keepLastDownProjDense = true);

MemoryPlan planMemory(const ModelConfig &config, const PlanSettings &settings, double ratio);

// `config` with head_dim filled in where config.json leaves it implicit, as the planner needs it.
ModelConfig plannableConfig(ModelConfig config);

// The largest ratio (on a 0.01 grid in [0.05, 1]) whose peak fits in `budgetBytes`.
struct RatioChoice
{
    bool fits = false;
    double ratio = 0;
    MemoryPlan plan;    // at `ratio`, or at the smallest ratio when nothing fits
    std::string advice; // when nothing fits: what to change, with the numbers
};
RatioChoice chooseRatio(const ModelConfig &config, const PlanSettings &settings, int64_t budgetBytes);

// memory(ratio) on an even grid, for the GUI's trade-off preview.
std::vector<MemoryPlan> memoryCurve(const ModelConfig &config, const PlanSettings &settings,
                                    double minRatio = 0.05, double maxRatio = 1.0, int points = 20);

} // namespace emloc::core
