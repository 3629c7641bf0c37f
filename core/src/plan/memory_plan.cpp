#include "emloc/plan/memory_plan.h"

#include "emloc/math/activation_svd.h"
#include "emloc/util/memory.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace emloc::core {

namespace {
// One projection of a decoder block: local name, rows (out) and columns (in).
struct Projection
{
    std::string name;
    int64_t out = 0;
    int64_t in = 0;
};

std::vector<Projection> blockProjections(const ModelConfig &c)
{
    const int64_t qWidth = c.numHeads * c.headDim, kvWidth = c.numKeyValueHeads * c.headDim;
    return {{"q_proj", qWidth, c.hiddenSize},
            {"k_proj", kvWidth, c.hiddenSize},
            {"v_proj", kvWidth, c.hiddenSize},
            {"o_proj", c.hiddenSize, qWidth},
            {"gate_proj", c.intermediateSize, c.hiddenSize},
            {"up_proj", c.intermediateSize, c.hiddenSize},
            {"down_proj", c.hiddenSize, c.intermediateSize}};
}

bool isTarget(const PlanSettings &s, const std::string &name)
{
    return std::find(s.loraTargets.begin(), s.loraTargets.end(), name) != s.loraTargets.end();
}

int64_t loraParameterCount(const ModelConfig &c, const PlanSettings &s)
{
    int64_t perLayer = 0;
    for (const auto &p : blockProjections(c))
        if (isTarget(s, p.name))
            perLayer += s.loraRank * (p.out + p.in);
    return perLayer * c.numLayers;
}

int64_t overheadBytes(const PlanSettings &s)
{
    if (s.runtimeOverheadBytes >= 0)
        return s.runtimeOverheadBytes;
    // Measured: the CUDA context on a GPU; on the CPU, LibTorch's resident libraries and allocator pools,
    // which grow as a run executes more kernels (400-420 MiB idle, 469-480 MiB once a stage has run, on
    // 2026-12-06: 400 left stages 1 and 3 of the demo 90 and 80 MiB above their plan).
    return 512LL << 20;
}

// Activations one decoder layer keeps for backward (or, with keepForBackward false, the largest set
// alive at once during an inference forward) for `tokens` tokens in `batch` sequences of `length`.
int64_t layerActivationBytes(const ModelConfig &c, int64_t batch, int64_t length, int64_t bytesPerValue,
                             bool keepForBackward, int64_t lowRankWidth, int64_t loraInputWidth)
{
    const int64_t tokens = batch * length;
    const int64_t qkvWidth = (c.numHeads + 2 * c.numKeyValueHeads) * c.headDim;
    const int64_t scores = batch * c.numHeads * length * length; // attention probabilities
    if (!keepForBackward) {
        // Residual, normed input, q/k/v, scores, then the MLP's gate, up and product.
        int64_t attention = tokens * (2 * c.hiddenSize + qkvWidth) + scores;
        int64_t mlp = tokens * (2 * c.hiddenSize + 3 * c.intermediateSize);
        return std::max(attention, mlp) * bytesPerValue;
    }
    int64_t perToken = 6 * c.hiddenSize + 2 * qkvWidth + c.numHeads * c.headDim + 4 * c.intermediateSize +
                       lowRankWidth + loraInputWidth;
    return (tokens * perToken + 2 * scores) * bytesPerValue;
}

int64_t logitsBytes(const ModelConfig &c, int64_t tokens, bool training)
{
    // Logits are upcast to float32 for the loss; training also keeps log-softmax and its gradient.
    return tokens * c.vocabSize * 4 * (training ? 3 : 1);
}

// The tower and projector stay resident; their activations are counted beside the language model's
// although the tower runs first, a margin smaller than a layer's activations.
void addVisionItems(StageEstimate &estimate, const PlanSettings &s, bool emulatorTower = false)
{
    if (s.visionParameters <= 0)
        return;
    const bool compressed = emulatorTower && s.visionEmulatorParameters > 0;
    estimate.items.push_back(
        {compressed ? "vision tower (compressed) and projector" : "vision tower and projector",
         (compressed ? s.visionEmulatorParameters : s.visionParameters) * valueBytesOf(s)});
    estimate.items.push_back({"vision activations", s.visionActivationValues * valueBytesOf(s)});
}

// LoRA training with `trainedLayers` decoder layers (the last ones) in the backward pass; the layers
// before them are frozen and keep nothing for it.
StageEstimate trainingEstimate(const std::string &stage, const ModelConfig &c, const PlanSettings &s,
                               int64_t weightParameters, int64_t lowRankWidth, int64_t loraParameters,
                               int64_t trainedLayers, bool emulatorTower)
{
    const int64_t bytesPerValue = valueBytesOf(s);
    const int64_t tokens = s.batchSize * s.sequenceLength;
    int64_t loraInputWidth = 0; // each LoRA target keeps its (dropout) input
    for (const auto &p : blockProjections(c))
        if (isTarget(s, p.name))
            loraInputWidth += p.in + s.loraRank;
    int64_t perLayer = layerActivationBytes(c, s.batchSize, s.sequenceLength, bytesPerValue, true,
                                            lowRankWidth, loraInputWidth);
    int64_t activations = s.gradientCheckpointing
                              ? trainedLayers * tokens * c.hiddenSize * bytesPerValue + 2 * perLayer
                              : trainedLayers * perLayer;
    StageEstimate e{stage, {}};
    e.items = {{"weights", weightParameters * bytesPerValue},
               {"LoRA weights", loraParameters * 4},
               {"gradients", loraParameters * 4},
               {"optimizer states", loraParameters * 8},
               {"activations", activations},
               {"logits", logitsBytes(c, tokens, true)},
               {"runtime overhead", overheadBytes(s)}};
    addVisionItems(e, s, emulatorTower);
    return e;
}

// Sum over one block's compressed projections of their rank (the low-rank intermediate width).
int64_t lowRankWidth(const ModelConfig &c, double ratio)
{
    int64_t width = 0;
    for (const auto &p : blockProjections(c))
        width += rankForRatio(ratio, p.out, p.in);
    return width;
}
} // namespace

PlanSettings processShare(PlanSettings settings, int processes, int64_t gradAccum)
{
    if (processes <= 1)
        return settings;
    const auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    settings.calibrationSamples = ceilDiv(settings.calibrationSamples, processes);
    settings.calibrationChunk = std::min(settings.calibrationChunk, settings.calibrationSamples);
    if (gradAccum < processes)
        settings.batchSize = ceilDiv(settings.batchSize, processes);
    return settings;
}

int64_t frozenPrefixCapBytes(const ModelConfig &config, const PlanSettings &settings)
{
    return settings.frozenPrefixBytes >= 0 ? settings.frozenPrefixBytes
                                           : config.totalParameters() * valueBytesOf(settings) / 4;
}

int64_t valueBytesOf(const PlanSettings &s)
{
    return s.valueBytes > 0 ? s.valueBytes : (s.cuda ? 2 : 4);
}

int64_t StageEstimate::totalBytes() const
{
    int64_t total = 0;
    for (const auto &item : items)
        total += item.bytes;
    return total;
}

int64_t MemoryPlan::peakBytes() const
{
    return std::max({construction.totalBytes(), fineTuning.totalBytes(), correction.totalBytes()});
}

int64_t emulatorParameterCount(const ModelConfig &config, double ratio, bool keepLastDownProjDense)
{
    int64_t total = config.totalParameters();
    for (int64_t layer = 0; layer < config.numLayers; ++layer) {
        for (const auto &p : blockProjections(config)) {
            if (keepLastDownProjDense && layer == config.numLayers - 1 && p.name == "down_proj")
                continue;
            int64_t rank = rankForRatio(ratio, p.out, p.in);
            if (rank * (p.out + p.in) < p.out * p.in) // a factorisation larger than the layer stays dense
                total += rank * (p.out + p.in) - p.out * p.in;
        }
    }
    return total;
}

MemoryPlan planMemory(const ModelConfig &c, const PlanSettings &s, double ratio)
{
    rankForRatio(ratio, 1, 1); // validates the ratio
    MemoryPlan plan;
    plan.ratio = ratio;
    plan.emulatorParameters = emulatorParameterCount(c, ratio, s.keepLastDownProjDense);
    plan.loraParameters = loraParameterCount(c, s);
    const int64_t bytesPerValue = valueBytesOf(s);
    const int64_t tokens = s.batchSize * s.sequenceLength;

    plan.inference = {
        "inference",
        {{"weights", c.totalParameters() * bytesPerValue},
         {"activations", layerActivationBytes(c, s.batchSize, s.sequenceLength, bytesPerValue, false, 0, 0)},
         {"logits", logitsBytes(c, tokens, false)},
         {"runtime overhead", overheadBytes(s)}}};
    addVisionItems(plan.inference, s);

    // Stage 1 holds the calibration hidden states (each chunk's output replaces its input, so one copy plus
    // one chunk's activations), the Grams, one layer in float32 with its factors, and the SVD workspace.
    // Before the first layer the embedding matrix (and an untied head, while it is copied out) is resident
    // instead of a layer; it is freed before the layers stream.
    const int64_t calibrationTokens = s.calibrationSamples * s.calibrationSequenceLength;
    const int64_t qWidth = c.numHeads * c.headDim;
    const int64_t gramBytes =
        (2 * c.hiddenSize * c.hiddenSize + qWidth * qWidth + c.intermediateSize * c.intermediateSize) *
        (s.gramFloat64 ? 8 : 4);
    int64_t largestMatrix = 0, largestSide = 0;
    for (const auto &p : blockProjections(c)) {
        largestMatrix = std::max(largestMatrix, p.out * p.in);
        largestSide = std::max({largestSide, p.in});
    }
    const int64_t svdWorkspace = (4 * largestMatrix + 3 * largestSide * largestSide) * 4;
    const int64_t hiddenStates = calibrationTokens * c.hiddenSize * 4;
    const int64_t layerBytes = c.parametersPerLayer() * 4 * 2; // weights and their factors
    const int64_t chunkActivations =
        layerActivationBytes(c, s.calibrationChunk, s.calibrationSequenceLength, 4, false, 0, 0);
    const int64_t embeddingBytes = c.vocabSize * c.hiddenSize * 4;
    const int64_t embeddingPhase =
        embeddingBytes + std::max(c.tieWordEmbeddings ? 0 : embeddingBytes, hiddenStates);
    const int64_t layerPhase =
        hiddenStates + gramBytes + layerBytes + std::max(svdWorkspace, chunkActivations);
    // A vision-language model's tower runs on the calibration images first, in float32, and is freed;
    // compressing it adds one tower layer's Grams and factorisation (and the tiles' states on the CPU).
    const int64_t visionPhase =
        (s.visionParameters + s.visionActivationValues) * 4 + s.visionCompressionBytes;
    if (visionPhase > std::max(embeddingPhase, layerPhase)) {
        plan.construction = {"construction",
                             {{"vision tower and projector", s.visionParameters * 4},
                              {"vision activations", s.visionActivationValues * 4},
                              {"runtime overhead", overheadBytes(s)}}};
        if (s.visionCompressionBytes > 0)
            plan.construction.items.push_back({"vision tower compression", s.visionCompressionBytes});
    } else if (embeddingPhase > layerPhase)
        plan.construction = {"construction",
                             {{"embeddings", embeddingPhase - hiddenStates},
                              {"calibration hidden states", hiddenStates},
                              {"runtime overhead", overheadBytes(s)}}};
    else
        plan.construction = {"construction",
                             {{"one layer and its factors", layerBytes},
                              {"calibration hidden states", hiddenStates},
                              {"Gram matrices", gramBytes},
                              {"SVD workspace and activations", std::max(svdWorkspace, chunkActivations)},
                              {"runtime overhead", overheadBytes(s)}}};

    plan.fineTuning = trainingEstimate("fine-tuning", c, s, plan.emulatorParameters, lowRankWidth(c, ratio),
                                       plan.loraParameters, c.numLayers, true);
    plan.fullLora =
        trainingEstimate("full LoRA", c, s, c.totalParameters(), 0, plan.loraParameters, c.numLayers, false);
    if (s.refineLayers > 0) {
        const int64_t layers = std::min(s.refineLayers, c.numLayers);
        plan.refinement =
            trainingEstimate("refinement", c, s, c.totalParameters(), 0,
                             plan.loraParameters / std::max<int64_t>(1, c.numLayers) * layers, layers, false);
        if (layers < c.numLayers)
            plan.refinement.items.push_back({"frozen layers' outputs", frozenPrefixCapBytes(c, s)});
    }

    // Stage 3 streams one layer: its original weights and emulator weights in float32, plus the adapter.
    plan.correction = {"correction",
                       {{"one layer, original and emulator", c.parametersPerLayer() * 4 * 2},
                        {"adapter", plan.loraParameters * 4 * 2},
                        {"runtime overhead", overheadBytes(s)}}};
    return plan;
}

RatioChoice chooseRatio(const ModelConfig &config, const PlanSettings &settings, int64_t budgetBytes)
{
    RatioChoice choice;
    for (int step = 100; step >= 5; --step) {
        double ratio = step / 100.0;
        MemoryPlan plan = planMemory(config, settings, ratio);
        if (plan.peakBytes() <= budgetBytes) {
            choice.fits = true;
            choice.ratio = ratio;
            choice.plan = plan;
            return choice;
        }
    }
    choice.ratio = 0.05;
    choice.plan = planMemory(config, settings, 0.05);
    // Name the largest item of the stage that overflows, with the numbers.
    const StageEstimate *worst = &choice.plan.fineTuning;
    for (const StageEstimate *stage : {&choice.plan.construction, &choice.plan.correction})
        if (stage->totalBytes() > worst->totalBytes())
            worst = stage;
    const MemoryItem *largest = &worst->items.front();
    for (const auto &item : worst->items)
        if (item.bytes > largest->bytes)
            largest = &item;
    std::ostringstream advice;
    advice << "No compression ratio fits in " << formatBytes(budgetBytes) << ": even at ratio 0.05 the "
           << worst->stage << " stage needs " << formatBytes(worst->totalBytes()) << ", mostly "
           << largest->name << " (" << formatBytes(largest->bytes) << "). ";
    if (largest->name == "activations" || largest->name == "logits")
        advice << "Lower the batch size (now " << settings.batchSize << ") or the sequence length (now "
               << settings.sequenceLength << ")"
               << (settings.gradientCheckpointing ? "" : ", or enable gradient checkpointing") << ".";
    else if (largest->name == "calibration hidden states")
        advice << "Use fewer calibration samples (now " << settings.calibrationSamples
               << ") or a shorter calibration length.";
    else
        advice << "Raise the budget to at least " << formatBytes(worst->totalBytes()) << ".";
    choice.advice = advice.str();
    return choice;
}

std::vector<MemoryPlan> memoryCurve(const ModelConfig &config, const PlanSettings &settings, double minRatio,
                                    double maxRatio, int points)
{
    std::vector<MemoryPlan> curve;
    points = std::max(points, 2);
    for (int i = 0; i < points; ++i)
        curve.push_back(planMemory(config, settings, minRatio + (maxRatio - minRatio) * i / (points - 1)));
    return curve;
}

ModelConfig plannableConfig(ModelConfig config)
{
    if (config.headDim <= 0 && config.numHeads > 0)
        config.headDim = config.hiddenSize / config.numHeads;
    return config;
}

} // namespace emloc::core
