#pragma once

#include "emloc/api/job.h"
#include "emloc/api/run_defaults.h"
#include "emloc/api/stages.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/stages/optimizer.h"
#include "emloc/text/dataset_tokenize.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace emloc::core {

class Collective;

// Everything one LoRA fine-tuning run needs besides the model and the data.
struct TrainOptions
{
    std::string outputDir; // adapter, metrics.jsonl, checkpoint/; empty: write nothing (tests)
    int64_t steps = run_defaults::kSteps.value;         // optimizer steps; 0: from `epochs`
    double epochs = run_defaults::kEpochs.value;        // used when steps is 0
    int64_t batchSize = run_defaults::kBatch.value;     // rows per micro-batch
    int64_t gradAccum = run_defaults::kGradAccum.value; // micro-batches per optimizer step
    double learningRate = run_defaults::kLearningRate.value;
    LrSchedule schedule = LrSchedule::Cosine;
    double warmupRatio = run_defaults::kWarmupRatio.value;
    AdamWOptions adam;
    double maxGradNorm = 1.0; // <= 0: no clipping
    LoraConfig lora;
    std::vector<int64_t> loraLayers; // decoder layers that get LoRA; empty: all
    bool packing = false;            // several examples per row (documents do not attend to each other)
    int64_t packLength = 0;          // tokens per packed row (0: the longest example)
    int64_t padId = 0;
    int64_t evalEvery =
        run_defaults::kEvalEvery.value; // validation every N steps (and at the end); 0: at the end only
    int64_t earlyStoppingPatience = 0;  // stop after N validations without improvement; 0: never
    int64_t checkpointEvery = 0;        // 0: only at cancel and at the end
    bool resume = false;                // continue from outputDir/checkpoint when there is one
    uint64_t seed = run_defaults::kSeed.value; // LoRA init, dropout and data order
    bool gradientCheckpointing =
        run_defaults::kGradientCheckpointing; // recompute each decoder layer in backward
    // With LoRA on the last layers only (refinement), the outputs of the frozen layers before them are
    // computed once per training example and kept, up to this many bytes; -1: a quarter of the model's
    // weights (the evaluation's KV-cache rule), 0: computed at every step.
    int64_t frozenPrefixBytes = -1;
    bool autocast = true;       // bf16 autocast on CUDA (ignored on the CPU)
    std::string baseModelName;  // base_model_name_or_path in the adapter
    Stage stage = Stage::Train; // the stage its progress and metrics name (refinement: Refine)
    // Layer-drop emulators: the original index of each of the model's layers, for the written adapter.
    std::map<int64_t, int64_t> adapterLayerMap;
    // Several processes (not owned; null: one): each computes its share of every step's micro-batches and
    // of the validation, the gradients are summed over ranks, rank 0 alone writes. The same global batch
    // and seed give the same adapter at any number of processes (to float reduction order).
    Collective *collective = nullptr;
};

// How a run ended, for the CLI summary and the GUI.
struct TrainResult
{
    int64_t steps = 0;      // optimizer steps done (including those before a resume)
    int64_t totalSteps = 0; // planned
    int64_t resumedFromStep = 0;
    double seconds = 0; // training time of all sessions, pauses excluded
    double secondsPerStep = 0;
    int64_t peakMemoryBytes = 0;
    double finalTrainLoss = -1;
    double firstTrainLoss = -1;
    double finalValidationLoss = -1;
    double bestValidationLoss = -1;
    bool stoppedEarly = false;
    int64_t trainableParameters = 0;
    double flopsPerStep = 0;    // estimate: see estimateStepFlops
    int processes = 1;          // ranks that shared the steps
    double exchangeSeconds = 0; // this session's time in the gradient all-reduce (waiting for ranks included)
    std::string adapterDir;     // where the adapter was written ("" without outputDir)
    nlohmann::json toJson() const;
};

// Runs LoRA fine-tuning of `model` (an emulator or the full original) on tokenized examples. Not
// thread-safe; call from one worker thread. Progress "train" per optimizer step, a MetricSample per step
// (and one per validation), pause/cancel between micro-batches through feedback.checkpoint(): a cancel
// writes a checkpoint of the last completed step and ends with CancelledError. Writes the PEFT adapter
// into outputDir at the end. Out-of-memory on CUDA becomes an Error with the planner's itemisation.
class ImageInputs;
class LoraTrainer
{
public:
    // Attaches LoRA to `model` (seeded with options.seed) unless `attachment` carries it already.
    LoraTrainer(CausalLM &model, TrainOptions options);
    ~LoraTrainer();

    TrainResult run(const std::vector<TokenizedExample> &train,
                    const std::vector<TokenizedExample> &validation, Feedback &feedback);

    const LoraAttachment &attachment() const { return m_attachment; }
    const TrainOptions &options() const { return m_options; }
    // A vision-language model's: every batch starts from its embeddings with its images in them. Must
    // outlive run().
    void setImageInputs(const ImageInputs *images) { m_images = images; }

private:
    CausalLM &m_model;
    TrainOptions m_options;
    LoraAttachment m_attachment;
    const ImageInputs *m_images = nullptr;
    int64_t m_denseLinearParameters = 0;
};

// The summed token cross-entropy of a batch (labels shifted inside; kIgnoreLabel ignored) in float32 and
// the number of tokens it covers. With `checkpointing` (and grad mode on) every decoder layer is run by
// runLayerCheckpointed, so only layer inputs are kept for backward.
struct LossSum
{
    torch::Tensor sum;
    int64_t tokens = 0;
};
// With `prefix`, the batch starts from its cached outputs of the frozen first layers; with `images` (a
// vision-language model's), from its embeddings with the batch's images in them.
class FrozenPrefix;
class ImageInputs;
LossSum batchLossSum(CausalLM &model, const Batch &batch, const LoraAttachment *lora, bool checkpointing,
                     FrozenPrefix *prefix = nullptr, const ImageInputs *images = nullptr);

// Runs decoder layer `index` without keeping its activations, and re-runs it with grad during backward
// (the default generators' states are restored for the re-run, so dropout draws the same masks, and CUDA
// autocast is re-entered). `parameters` are the trainable tensors the layer uses: their gradients flow
// through the recomputation. Gradients equal those of model.runLayer.
torch::Tensor runLayerCheckpointed(CausalLM &model, int64_t index, const torch::Tensor &hidden,
                                   const LayerInputs &inputs, const std::vector<torch::Tensor> &parameters);

// The layer inputs of a packed batch: positions restart per document and a token attends only to earlier
// tokens of its own document.
LayerInputs packedLayerInputs(const CausalLM &model, const Batch &batch);

// Floating-point operations of one micro-batch of `rows` x `length` tokens with frozen base weights:
// decoder linears 2 N T forward, the same again for the input gradients and once more for the recompute
// under checkpointing; attention 4 T^2 d per layer and row (forward), twice that in backward; the head on
// the trained tokens.
double estimateStepFlops(const ModelConfig &config, int64_t linearParameters, int64_t rows, int64_t length,
                         int64_t trainedTokens, bool checkpointing);

} // namespace emloc::core
