#include "checkpoint_io.h"
#include "frozen_prefix.h"
#include "generator_state.h"
#include "train_memory_advice.h"

#include "emloc/api/error.h"
#include "emloc/dist/collective.h"
#include "emloc/io/atomic_file.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/train_loop.h"
#include "emloc/util/memory.h"

#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

namespace emloc::core {

namespace {
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Generator states at the start of a step: what a checkpoint stores, so a resumed step draws the same
// dropout masks.
struct RngSnapshot
{
    torch::Tensor cpu;
    torch::Tensor device;
};

RngSnapshot takeRng(torch::Device device)
{
    return {generatorState(torch::kCPU), device.is_cuda() ? generatorState(device) : torch::Tensor()};
}

void restoreRng(const RngSnapshot &snapshot, torch::Device device)
{
    setGeneratorState(torch::kCPU, snapshot.cpu);
    if (device.is_cuda() && snapshot.device.defined())
        setGeneratorState(device, snapshot.device);
}

// bf16 autocast for the duration of a scope (CUDA only; the CPU trains in fp32).
class AutocastScope
{
public:
    explicit AutocastScope(bool enable) : m_enabled(enable)
    {
        if (!m_enabled)
            return;
        m_was = at::autocast::is_autocast_enabled(at::kCUDA);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
        at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    }
    ~AutocastScope()
    {
        if (!m_enabled)
            return;
        at::autocast::set_autocast_enabled(at::kCUDA, m_was);
        at::autocast::clear_cache();
    }

private:
    bool m_enabled;
    bool m_was = false;
};

// The outputs of the layers before the first one with LoRA, kept per example (none when LoRA starts at
// layer 0 or the option is off).
std::unique_ptr<FrozenPrefix> frozenPrefixFor(CausalLM &model, const TrainOptions &options,
                                              const std::vector<TokenizedExample> &train,
                                              const ImageInputs *images, Feedback &feedback)
{
    if (options.loraLayers.empty() || options.frozenPrefixBytes == 0)
        return nullptr;
    const int64_t first = *std::min_element(options.loraLayers.begin(), options.loraLayers.end());
    if (first < 1)
        return nullptr;
    PlanSettings cap; // the planner's rule, at the model's own value size
    cap.valueBytes = static_cast<int64_t>(c10::elementSize(model.placement().dtype));
    cap.frozenPrefixBytes = options.frozenPrefixBytes;
    const int64_t maxBytes = frozenPrefixCapBytes(model.config(), cap);
    feedback.log(LogLevel::Info, "Layers 0-" + std::to_string(first - 1) +
                                     " are frozen: their outputs are computed once per example (up to " +
                                     formatBytes(maxBytes) + " kept).");
    return std::make_unique<FrozenPrefix>(model, train, first, maxBytes, images);
}

// The endless stream of micro-batches: epoch after epoch of planBatches, each epoch shuffled by the seed.
// Its position is a single counter, so a checkpoint restores it exactly.
class BatchStream
{
public:
    BatchStream(const std::vector<TokenizedExample> &examples, BatchOptions options)
        : m_examples(examples), m_options(options)
    {
        plan(0);
        if (m_plan.empty())
            throw Error("the training set gives no batch");
        m_batchesPerEpoch = static_cast<int64_t>(m_plan.size());
    }
    int64_t batchesPerEpoch() const { return m_batchesPerEpoch; }
    int64_t position() const { return m_position; }
    void seek(int64_t position) { m_position = position; }
    int64_t epoch() const { return m_epoch; }

    // The next micro-batch's rows (example indices), not collated: each rank collates its share.
    std::vector<std::vector<size_t>> nextRows()
    {
        // Packed epochs may differ in length by a batch: walk epochs by their own plans.
        while (m_position - m_epochStart >= static_cast<int64_t>(m_plan.size()) ||
               m_position < m_epochStart) {
            if (m_position < m_epochStart) {
                m_epochStart = 0;
                plan(0);
                continue;
            }
            m_epochStart += static_cast<int64_t>(m_plan.size());
            plan(m_epoch + 1);
        }
        const auto &rows = m_plan[static_cast<size_t>(m_position - m_epochStart)];
        ++m_position;
        return rows;
    }

private:
    void plan(int64_t epoch)
    {
        m_epoch = epoch;
        m_plan = planBatches(m_examples, m_options, epoch);
    }

    const std::vector<TokenizedExample> &m_examples;
    BatchOptions m_options;
    std::vector<std::vector<std::vector<size_t>>> m_plan;
    int64_t m_epoch = 0;
    int64_t m_epochStart = 0;
    int64_t m_position = 0;
    int64_t m_batchesPerEpoch = 0;
};

// One rank's share of a step's micro-batches (rows of example indices), keyed by the micro-batch's index
// in the step: whole micro-batches dealt round-robin when there are at least as many as ranks (each rank
// keeps the single process's micro-batch size, so its memory), else each micro-batch's rows split.
std::vector<std::pair<int64_t, std::vector<std::vector<size_t>>>>
shareOfStep(const std::vector<std::vector<std::vector<size_t>>> &window, int world, int rank)
{
    std::vector<std::pair<int64_t, std::vector<std::vector<size_t>>>> share;
    const auto count = static_cast<int64_t>(window.size());
    if (count >= world) {
        for (int64_t i = rank; i < count; i += world)
            share.emplace_back(i, window[static_cast<size_t>(i)]);
        return share;
    }
    for (int64_t i = 0; i < count; ++i) {
        const auto &rows = window[static_cast<size_t>(i)];
        const size_t begin = rows.size() * static_cast<size_t>(rank) / static_cast<size_t>(world);
        const size_t end = rows.size() * static_cast<size_t>(rank + 1) / static_cast<size_t>(world);
        if (begin < end)
            share.emplace_back(i, std::vector<std::vector<size_t>>(rows.begin() + static_cast<long>(begin),
                                                                   rows.begin() + static_cast<long>(end)));
    }
    return share;
}

// The dropout masks of a micro-batch follow from the seed, the step and the micro-batch's index alone:
// not from which rank computes it, how many micro-batches came before on that rank, or a resume between.
void seedMicroBatch(uint64_t seed, int64_t step, int64_t index)
{
    uint64_t mixed = seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(step + 1)) ^
                     (0xC2B2AE3D27D4EB4Full * static_cast<uint64_t>(index + 1));
    mixed ^= mixed >> 31;
    torch::manual_seed(mixed & 0x7FFFFFFFFFFFFFFFull);
}

std::string deviceName(torch::Device device)
{
    return device.is_cuda() ? "cuda:" + std::to_string(std::max<int>(0, device.index())) : "cpu";
}

// What the checkpoint must match for a resume to continue the same run.
nlohmann::json settingsFingerprint(const TrainOptions &options, int64_t totalSteps, int64_t trainExamples)
{
    return {{"total_steps", totalSteps},
            {"batch", options.batchSize},
            {"grad_accum", options.gradAccum},
            {"lr", options.learningRate},
            {"seed", options.seed},
            {"rank", options.lora.rank},
            {"packing", options.packing},
            {"train_examples", trainExamples},
            {"schedule", lrScheduleName(options.schedule)}};
}
} // namespace

nlohmann::json TrainResult::toJson() const
{
    return {{"steps", steps},
            {"total_steps", totalSteps},
            {"resumed_from_step", resumedFromStep},
            {"seconds", seconds},
            {"seconds_per_step", secondsPerStep},
            {"peak_memory_bytes", peakMemoryBytes},
            {"first_train_loss", firstTrainLoss},
            {"final_train_loss", finalTrainLoss},
            {"final_validation_loss", finalValidationLoss},
            {"best_validation_loss", bestValidationLoss},
            {"stopped_early", stoppedEarly},
            {"trainable_parameters", trainableParameters},
            {"flops_per_step", flopsPerStep},
            {"processes", processes},
            {"gradient_exchange_seconds", exchangeSeconds},
            {"adapter_dir", adapterDir}};
}

LoraTrainer::LoraTrainer(CausalLM &model, TrainOptions options)
    : m_model(model), m_options(std::move(options))
{
    if (m_options.batchSize < 1 || m_options.gradAccum < 1)
        throw Error("the batch size and gradient accumulation must be at least 1");
    if (m_options.steps < 0 || (m_options.steps == 0 && !(m_options.epochs > 0)))
        throw Error("give a positive number of steps or epochs");
    if (!(m_options.learningRate > 0))
        throw Error("the learning rate must be positive");
    if (m_options.warmupRatio < 0 || m_options.warmupRatio >= 1)
        throw Error("the warmup ratio must be in [0, 1)");
    for (const auto &name : model.linearNames())
        m_denseLinearParameters += model.linearSlot(name)->parameterCount();
    torch::manual_seed(m_options.seed);
    m_attachment = attachLora(model, m_options.lora, m_options.loraLayers);
}

LoraTrainer::~LoraTrainer() = default;

TrainResult LoraTrainer::run(const std::vector<TokenizedExample> &train,
                             const std::vector<TokenizedExample> &validation, Feedback &feedback)
{
    if (train.empty())
        throw Error("no training examples");
    const auto device = m_model.placement().device;
    const bool useAutocast = m_options.autocast && device.is_cuda();
    // Several processes: each computes its share of every step; rank 0 alone writes.
    Collective *collective = m_options.collective;
    const int world = worldSizeOf(collective), rank = rankOf(collective);
    const bool writing = !m_options.outputDir.empty() && isLeader(collective);
    if (writing) {
        std::error_code error;
        std::filesystem::create_directories(m_options.outputDir, error);
        if (error)
            throw Error("cannot create the output folder " + m_options.outputDir + ": " + error.message());
    }

    BatchOptions batchOptions;
    batchOptions.batchSize = m_options.batchSize;
    batchOptions.packing = m_options.packing;
    batchOptions.rowLength = m_options.packLength;
    batchOptions.padId = m_options.padId;
    batchOptions.shuffle = true;
    batchOptions.seed = m_options.seed;
    BatchStream stream(train, batchOptions);
    std::unique_ptr<FrozenPrefix> prefix = frozenPrefixFor(m_model, m_options, train, m_images, feedback);
    const int64_t totalSteps =
        m_options.steps > 0
            ? m_options.steps
            : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                       m_options.epochs * static_cast<double>(stream.batchesPerEpoch()) /
                                       static_cast<double>(m_options.gradAccum))));
    const int64_t warmupSteps = warmupStepsFor(m_options.warmupRatio, totalSteps);
    const auto parameters = m_attachment.parameters();
    AdamW optimizer(parameters, m_options.adam);
    const nlohmann::json fingerprint =
        settingsFingerprint(m_options, totalSteps, static_cast<int64_t>(train.size()));

    TrainResult result;
    result.totalSteps = totalSteps;
    result.trainableParameters = m_attachment.parameterCount();
    int64_t step = 0;
    double previousSeconds = 0;
    double bestValidation = -1;
    int64_t badValidations = 0;
    std::vector<std::string> metricLines;

    if (m_options.resume && !m_options.outputDir.empty()) {
        if (auto checkpoint = readTrainingCheckpoint(m_options.outputDir)) {
            const auto &state = checkpoint->state;
            if (state.value("settings", nlohmann::json()) != fingerprint)
                throw Error("the checkpoint in " + checkpointFolder(m_options.outputDir) +
                            " was made with other settings (" +
                            state.value("settings", nlohmann::json()).dump() +
                            "); resume with the same settings, or choose another --out");
            loadAdapterInto(checkpoint->adapter, m_attachment);
            step = state.at("step").get<int64_t>();
            optimizer.loadState(checkpoint->optimizer, step);
            stream.seek(state.at("cursor").get<int64_t>());
            previousSeconds = state.value("elapsed_s", 0.0);
            bestValidation = state.value("best_validation_loss", -1.0);
            badValidations = state.value("bad_validations", int64_t(0));
            result.firstTrainLoss = state.value("first_train_loss", -1.0);
            result.finalTrainLoss = state.value("last_train_loss", -1.0);
            result.finalValidationLoss = state.value("last_validation_loss", -1.0);
            RngSnapshot rng;
            for (const auto &[name, tensor] : checkpoint->rngStates)
                (name == "rng.cpu" ? rng.cpu : rng.device) = tensor;
            if (!rng.cpu.defined())
                throw Error("the checkpoint has no generator state; delete it to start over");
            restoreRng(rng, device);
            result.resumedFromStep = step;
            feedback.log(LogLevel::Info, "Resuming from step " + std::to_string(step) + " of " +
                                             std::to_string(totalSteps) + ".");
            const std::string metricsPath = m_options.outputDir + "/metrics.jsonl";
            if (std::filesystem::exists(metricsPath)) {
                std::istringstream lines(readTextFile(metricsPath));
                std::string line;
                while (std::getline(lines, line)) {
                    if (line.empty())
                        continue;
                    auto parsed = nlohmann::json::parse(line, nullptr, false);
                    if (!parsed.is_discarded() && parsed.value("step", int64_t(0)) <= step)
                        metricLines.push_back(line);
                }
            }
        }
    }

    if (world > 1) {
        // Every rank reads the checkpoint from the output folder they share; all must resume alike.
        const auto steps = collective->allGather(std::to_string(step), "the resume");
        for (int r = 1; r < world; ++r)
            if (steps[static_cast<size_t>(r)] != steps[0])
                throw Error(collective->describeRank(r) + " resumes from step " +
                            steps[static_cast<size_t>(r)] + " but rank 0 from step " + steps[0] +
                            ": the output folder " + m_options.outputDir +
                            " must be one folder that every rank sees (a shared filesystem)");
    }

    MemoryMeter meter(deviceName(device));
    meter.reset();
    const auto sessionStart = Clock::now();
    double pausedSeconds = 0;
    auto elapsed = [&] { return previousSeconds + secondsSince(sessionStart) - pausedSeconds; };
    // Pause time does not count as training time.
    auto safePoint = [&] {
        const auto before = Clock::now();
        feedback.checkpoint();
        pausedSeconds += secondsSince(before);
    };

    auto appendMetric = [&](const MetricSample &sample) {
        feedback.metric(sample);
        if (!writing)
            return;
        metricLines.push_back(metricSampleJson(sample).dump());
        std::string text;
        for (const auto &line : metricLines)
            text += line + "\n";
        writeFileAtomically(m_options.outputDir + "/metrics.jsonl", text);
    };

    auto saveCheckpoint = [&](int64_t completedSteps, int64_t cursor, const RngSnapshot &rng) {
        if (!writing)
            return;
        TrainingCheckpoint checkpoint;
        checkpoint.adapter = extractAdapter(m_attachment, m_options.baseModelName);
        checkpoint.optimizer = optimizer.stateTensors();
        checkpoint.rngStates.emplace_back("rng.cpu", rng.cpu);
        if (rng.device.defined())
            checkpoint.rngStates.emplace_back("rng.cuda", rng.device);
        checkpoint.state = {{"step", completedSteps},
                            {"cursor", cursor},
                            {"elapsed_s", elapsed()},
                            {"best_validation_loss", bestValidation},
                            {"bad_validations", badValidations},
                            {"first_train_loss", result.firstTrainLoss},
                            {"last_train_loss", result.finalTrainLoss},
                            {"last_validation_loss", result.finalValidationLoss},
                            {"settings", fingerprint}};
        writeTrainingCheckpoint(m_options.outputDir, checkpoint);
    };

    auto validate = [&]() -> double {
        if (validation.empty())
            return -1;
        torch::NoGradGuard noGrad;
        m_attachment.setTraining(false);
        AutocastScope autocast(useAutocast);
        BatchOptions options = batchOptions;
        options.shuffle = false;
        options.packing = false;
        double sum = 0;
        int64_t tokens = 0;
        const auto batches = planBatches(validation, options);
        for (size_t b = static_cast<size_t>(rank); b < batches.size(); b += static_cast<size_t>(world)) {
            safePoint();
            auto loss = batchLossSum(m_model, collateBatch(validation, batches[b], options), &m_attachment,
                                     false, nullptr, m_images);
            sum += loss.sum.item<double>();
            tokens += loss.tokens;
        }
        if (world > 1) {
            auto totals = torch::tensor({sum, static_cast<double>(tokens)}, torch::kFloat64);
            collective->allReduceSum({totals}, "the validation");
            sum = totals[0].item<double>();
            tokens = static_cast<int64_t>(totals[1].item<double>());
        }
        m_attachment.setTraining(true);
        return tokens > 0 ? sum / static_cast<double>(tokens) : -1;
    };

    m_attachment.setTraining(true);
    int64_t lastSequenceLength = 0;
    try {
        feedback.stageProgress(m_options.stage, step, totalSteps);
        const int64_t startStep = step;
        while (step < totalSteps) {
            safePoint();
            const auto stepStart = Clock::now();
            const double pausedBefore = pausedSeconds;
            const int64_t cursorAtStart = stream.position();
            const RngSnapshot rngAtStart = takeRng(device);
            std::vector<std::vector<std::vector<size_t>>> stepRows;
            for (int64_t i = 0; i < m_options.gradAccum; ++i)
                stepRows.push_back(stream.nextRows());
            std::vector<std::pair<int64_t, Batch>> window; // this rank's micro-batches, by index in the step
            int64_t windowTokens = 0, tokens = 0;
            for (auto &[index, rows] : shareOfStep(stepRows, world, rank)) {
                window.emplace_back(index, collateBatch(train, rows, batchOptions));
                windowTokens += window.back().second.trainedTokens;
                tokens += window.back().second.tokens;
            }
            if (world > 1) { // the step's loss is the mean over every rank's trained tokens
                auto counts = torch::tensor({static_cast<double>(windowTokens), static_cast<double>(tokens)},
                                            torch::kFloat64);
                collective->allReduceSum({counts}, "the token counts of step " + std::to_string(step + 1));
                windowTokens = static_cast<int64_t>(counts[0].item<double>());
                tokens = static_cast<int64_t>(counts[1].item<double>());
            }
            double lossSum = 0;
            torch::Tensor rankMemory;
            try {
                for (size_t i = 0; i < window.size(); ++i) {
                    if (i > 0)
                        safePoint();
                    const Batch &batch = window[i].second;
                    seedMicroBatch(m_options.seed, step, window[i].first);
                    lastSequenceLength = batch.inputIds.size(1);
                    LossSum loss;
                    {
                        AutocastScope autocast(useAutocast);
                        loss = batchLossSum(m_model, batch, &m_attachment, m_options.gradientCheckpointing,
                                            prefix.get(), m_images);
                    }
                    // Mean over every trained token of the window, whatever micro-batch it sits in.
                    (loss.sum / static_cast<double>(std::max<int64_t>(1, windowTokens))).backward();
                    lossSum += loss.sum.item<double>();
                    if (result.flopsPerStep == 0)
                        result.flopsPerStep =
                            estimateStepFlops(m_model.config(), m_denseLinearParameters,
                                              batch.inputIds.size(0), batch.inputIds.size(1), loss.tokens,
                                              m_options.gradientCheckpointing) *
                            static_cast<double>(m_options.gradAccum);
                }
            } catch (const CancelledError &) {
                // The step is abandoned: back to its start, so the checkpoint is the last completed step.
                optimizer.zeroGrad();
                stream.seek(cursorAtStart);
                restoreRng(rngAtStart, device);
                throw;
            }
            if (world > 1) {
                // LoRA's gradients are a few MB: one all-reduce per step, after the backward passes.
                std::vector<torch::Tensor> exchanged;
                for (auto &parameter : parameters) {
                    if (!parameter.grad().defined())
                        parameter.mutable_grad() = torch::zeros_like(parameter);
                    exchanged.push_back(parameter.grad());
                }
                auto loss = torch::tensor({lossSum}, torch::kFloat64);
                exchanged.push_back(loss);
                // Every rank's memory (the Run page's per-GPU lines) rides along.
                rankMemory = rankSlots(*collective, static_cast<double>(meter.read().currentBytes));
                exchanged.push_back(rankMemory);
                const auto exchangeStart = Clock::now();
                collective->allReduceSum(exchanged, "the gradients of step " + std::to_string(step + 1));
                result.exchangeSeconds += secondsSince(exchangeStart);
                lossSum = loss.item<double>();
            }
            const double gradNorm = clipGradNorm(parameters, m_options.maxGradNorm);
            const double learningRate =
                learningRateAt(m_options.schedule, m_options.learningRate, step, totalSteps, warmupSteps);
            optimizer.step(learningRate);
            optimizer.zeroGrad();
            ++step;

            const double trainLoss = windowTokens > 0 ? lossSum / static_cast<double>(windowTokens) : 0;
            if (result.firstTrainLoss < 0)
                result.firstTrainLoss = trainLoss;
            result.finalTrainLoss = trainLoss;
            const double stepSeconds = secondsSince(stepStart) - (pausedSeconds - pausedBefore);
            const double sessionSeconds = secondsSince(sessionStart) - pausedSeconds;
            const MemoryReading memory = meter.read();
            MetricSample sample;
            sample.stage = stageKey(m_options.stage);
            sample.step = step;
            sample.totalSteps = totalSteps;
            sample.elapsedSeconds = elapsed();
            sample.loss = trainLoss;
            sample.learningRate = learningRate;
            sample.gradNorm = gradNorm;
            sample.tokensPerSecond = stepSeconds > 0 ? static_cast<double>(tokens) / stepSeconds : -1;
            sample.etaSeconds = sessionSeconds / static_cast<double>(step - startStep) *
                                static_cast<double>(totalSteps - step);
            sample.memoryBytes = memory.currentBytes;
            sample.peakMemoryBytes = memory.peakBytes;
            if (rankMemory.defined())
                sample.rankMemoryBytes = rankSlotValues(rankMemory);
            appendMetric(sample);
            feedback.stageProgress(m_options.stage, step, totalSteps);

            const bool evaluate =
                !validation.empty() &&
                ((m_options.evalEvery > 0 && step % m_options.evalEvery == 0) || step == totalSteps);
            if (evaluate) {
                const double validationLoss = validate();
                result.finalValidationLoss = validationLoss;
                MetricSample validationSample = sample;
                // Training's validation is "validate"; refinement's "refine-validate", apart from it.
                validationSample.stage =
                    stageKey(m_options.stage == Stage::Train ? Stage::Validate : Stage::RefineValidate);
                validationSample.loss = -1;
                validationSample.validationLoss = validationLoss;
                validationSample.elapsedSeconds = elapsed();
                appendMetric(validationSample);
                if (bestValidation < 0 || validationLoss < bestValidation) {
                    bestValidation = validationLoss;
                    badValidations = 0;
                } else {
                    ++badValidations;
                }
                if (m_options.earlyStoppingPatience > 0 &&
                    badValidations >= m_options.earlyStoppingPatience && step < totalSteps) {
                    feedback.log(LogLevel::Info, "Early stop at step " + std::to_string(step) + ": " +
                                                     std::to_string(badValidations) +
                                                     " validations without improvement.");
                    result.stoppedEarly = true;
                    break;
                }
            }
            if (m_options.checkpointEvery > 0 && step % m_options.checkpointEvery == 0 && step < totalSteps)
                saveCheckpoint(step, stream.position(), takeRng(device));
        }
    } catch (const CancelledError &) {
        // Between steps the stream and the generators are exactly where the next step would start.
        feedback.log(LogLevel::Info,
                     "Cancelled after step " + std::to_string(step) + "; writing a checkpoint.");
        saveCheckpoint(step, stream.position(), takeRng(device));
        throw;
    } catch (const c10::OutOfMemoryError &e) {
        throw Error(std::string("Out of memory on ") + deviceName(device) + " at step " +
                    std::to_string(step + 1) + ". " +
                    outOfMemoryAdvice(m_model.config(), m_options, m_denseLinearParameters,
                                      lastSequenceLength, device.is_cuda()));
    }

    result.steps = step;
    result.processes = world;
    result.seconds = elapsed();
    const int64_t sessionSteps = step - result.resumedFromStep;
    result.secondsPerStep =
        sessionSteps > 0 ? (secondsSince(sessionStart) - pausedSeconds) / sessionSteps : 0;
    result.peakMemoryBytes = meter.read().peakBytes;
    result.bestValidationLoss = bestValidation;
    m_attachment.setTraining(false);
    if (writing) {
        saveCheckpoint(step, stream.position(), takeRng(device));
        LoraAdapter adapter = extractAdapter(m_attachment, m_options.baseModelName);
        if (!m_options.adapterLayerMap.empty())
            adapter = renumberLayers(adapter, m_options.adapterLayerMap);
        saveAdapter(adapter, m_options.outputDir);
        result.adapterDir = m_options.outputDir;
        writeFileAtomically(m_options.outputDir + "/training_summary.json", result.toJson().dump(2) + "\n");
    }
    return result;
}

} // namespace emloc::core
