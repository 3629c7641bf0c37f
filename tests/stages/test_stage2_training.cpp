// The training loop on a tiny model: learning, resume, cancel, pause, checkpointing and layer drop.
#include "stage2_test_util.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/stages/layer_drop.h"
#include "emloc/stages/train_loop.h"
#include "emloc/util/torch_runtime.h"

#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace emloc;
using emloc::test::maxAbsDiff;

namespace {
// Cancels when the trainer reports step `cancelAt` done; counts what it is told.
class CountingFeedback : public core::Feedback
{
public:
    int64_t cancelAt = -1;
    int64_t lastStep = 0;
    int64_t trainSamples = 0;
    int64_t validationSamples = 0;
    std::vector<double> losses;

    void progress(const std::string &stage, int64_t done, int64_t) override
    {
        if (stage != "train")
            return;
        lastStep = done;
        if (done == cancelAt)
            cancel();
    }
    void metric(const core::MetricSample &sample) override
    {
        if (sample.stage == "train") {
            ++trainSamples;
            losses.push_back(sample.loss);
            VERIFY(sample.learningRate >= 0 && sample.gradNorm >= 0 && sample.tokensPerSecond > 0);
            VERIFY(sample.peakMemoryBytes > 0 && sample.memoryBytes > 0 && sample.etaSeconds >= 0);
        } else if (sample.stage == "validate") {
            ++validationSamples;
        }
    }
};

core::TrainOptions smallOptions(const std::string &out)
{
    core::TrainOptions options;
    options.outputDir = out;
    options.steps = 8;
    options.batchSize = 2;
    options.gradAccum = 2;
    options.learningRate = 5e-3;
    options.warmupRatio = 0.25;
    options.lora.rank = 4;
    options.lora.dropout = 0.1;
    options.seed = 7;
    return options;
}

std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> weightsOf(const core::LoraAttachment &lora)
{
    return core::extractAdapter(lora, "").modules;
}

double maxAdapterDiff(const std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> &a,
                      const std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> &b)
{
    double worst = 0;
    for (const auto &[name, factors] : a) {
        worst = std::max(worst, maxAbsDiff(factors.first, b.at(name).first));
        worst = std::max(worst, maxAbsDiff(factors.second, b.at(name).second));
    }
    return worst;
}
} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
}

TEST_CASE(lossFallsOnMemorisation)
{
    auto model = test::tinyModel();
    auto examples = test::randomExamples(4, 16, 0, 3);
    core::TrainOptions options;
    options.steps = 60;
    options.batchSize = 2;
    options.gradAccum = 1;
    options.learningRate = 2e-2;
    options.warmupRatio = 0.05;
    options.schedule = core::LrSchedule::Constant;
    options.lora.rank = 8;
    options.lora.dropout = 0;
    options.adam.weightDecay = 0;
    core::LoraTrainer trainer(*model, options);
    CountingFeedback feedback;
    auto result = trainer.run(examples, examples, feedback);
    test::info(test::str("memorisation: loss ", result.firstTrainLoss, " -> ", result.finalTrainLoss,
                         " (validation ", result.finalValidationLoss, ") in ", int(result.steps), " steps, ",
                         result.secondsPerStep, " s/step"));
    COMPARE(result.steps, int64_t(60));
    COMPARE(feedback.trainSamples, int64_t(60));
    COMPARE(feedback.validationSamples, int64_t(1));
    VERIFY(result.finalTrainLoss < 0.5 * result.firstTrainLoss);
    VERIFY(result.finalValidationLoss < 0.5 * result.firstTrainLoss);
}

TEST_CASE(resumeGivesTheSameWeights)
{
    test::TempDir dir;
    auto examples = test::randomExamples(7, 12, 3, 5);
    const std::string straight = dir.filePath("straight");
    const std::string interrupted = dir.filePath("interrupted");

    auto modelA = test::tinyModel();
    core::LoraTrainer trainerA(*modelA, smallOptions(straight));
    CountingFeedback feedbackA;
    auto resultA = trainerA.run(examples, {}, feedbackA);
    COMPARE(resultA.steps, int64_t(8));

    {
        auto modelB = test::tinyModel();
        core::LoraTrainer trainerB(*modelB, smallOptions(interrupted));
        CountingFeedback feedbackB;
        feedbackB.cancelAt = 3;
        VERIFY_THROWS(core::CancelledError, trainerB.run(examples, {}, feedbackB));
        COMPARE(feedbackB.lastStep, int64_t(3));
    }
    auto state = nlohmann::json::parse(core::readTextFile(interrupted + "/checkpoint/trainer_state.json"));
    COMPARE(state["step"].get<int64_t>(), int64_t(3));

    auto modelC = test::tinyModel();
    auto options = smallOptions(interrupted);
    options.resume = true;
    core::LoraTrainer trainerC(*modelC, options);
    CountingFeedback feedbackC;
    auto resultC = trainerC.run(examples, {}, feedbackC);
    COMPARE(resultC.resumedFromStep, int64_t(3));
    COMPARE(resultC.steps, int64_t(8));
    COMPARE(feedbackC.trainSamples, int64_t(5));
    const double diff = maxAdapterDiff(weightsOf(trainerA.attachment()), weightsOf(trainerC.attachment()));
    test::info(test::str("resume after step 3 of 8 vs uninterrupted: max abs LoRA weight difference ", diff));
    VERIFY(diff <= 1e-6);
    COMPARE(resultC.finalTrainLoss, resultA.finalTrainLoss);
    // The losses of the resumed part are those of the straight run.
    COMPARE(feedbackC.losses.front(), feedbackA.losses[3]);

    // metrics.jsonl holds each step once, in order.
    std::ifstream metrics(interrupted + "/metrics.jsonl");
    std::string line;
    int64_t expected = 1;
    while (std::getline(metrics, line)) {
        auto sample = nlohmann::json::parse(line);
        COMPARE(sample["step"].get<int64_t>(), expected++);
    }
    COMPARE(expected, int64_t(9));
    // The final adapter is a PEFT adapter that loads.
    auto adapter = core::loadAdapter(interrupted);
    COMPARE(adapter.modules.size(), size_t(21));

    // Another setting refuses the checkpoint.
    auto modelD = test::tinyModel();
    auto changed = smallOptions(interrupted);
    changed.resume = true;
    changed.learningRate = 1e-3;
    core::LoraTrainer trainerD(*modelD, changed);
    CountingFeedback feedbackD;
    VERIFY_THROWS(core::Error, trainerD.run(examples, {}, feedbackD));
}

TEST_CASE(cancelStopsWithinOneStep)
{
    test::TempDir dir;
    auto examples = test::randomExamples(6, 14, 2, 8);
    auto options = smallOptions(dir.path());
    options.steps = 50;
    options.gradAccum = 4;
    options.checkpointEvery = 1;
    auto model = test::tinyModel();
    core::LoraTrainer trainer(*model, options);

    // Cancel from another thread while a step runs.
    class ThreadFeedback : public core::Feedback
    {
    public:
        std::atomic<int64_t> step{0};
        void progress(const std::string &stage, int64_t done, int64_t) override
        {
            if (stage == "train")
                step = done;
        }
    } feedback;
    std::chrono::steady_clock::time_point cancelledAt;
    int64_t stepAtCancel = 0;
    std::thread canceller([&] {
        while (feedback.step < 3)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        stepAtCancel = feedback.step;
        cancelledAt = std::chrono::steady_clock::now();
        feedback.cancel();
    });
    auto started = std::chrono::steady_clock::now();
    bool cancelled = false;
    try {
        trainer.run(examples, {}, feedback);
    } catch (const core::CancelledError &) {
        cancelled = true;
    }
    const auto ended = std::chrono::steady_clock::now();
    canceller.join();
    VERIFY(cancelled);
    const double stepSeconds =
        std::chrono::duration<double>(cancelledAt - started).count() / static_cast<double>(stepAtCancel);
    const double reaction = std::chrono::duration<double>(ended - cancelledAt).count();
    test::info(test::str("cancel: returned ", reaction, " s after cancel(), a step takes ", stepSeconds,
                         " s; stopped after step ", int(feedback.step.load())));
    VERIFY(feedback.step <= stepAtCancel + 1);
    // The checkpoint on disk is complete and loads.
    const std::string checkpoint = dir.filePath("checkpoint");
    auto state = nlohmann::json::parse(core::readTextFile(checkpoint + "/trainer_state.json"));
    COMPARE(state["step"].get<int64_t>(), feedback.step.load());
    auto adapter = core::loadAdapter(checkpoint);
    COMPARE(adapter.modules.size(), size_t(21));
    VERIFY(!test::fileExists(dir.filePath("checkpoint.partial")));
    VERIFY(!test::fileExists(dir.filePath("checkpoint.previous")));
}

TEST_CASE(pauseBlocksBetweenSteps)
{
    auto examples = test::randomExamples(4, 10, 2, 1);
    auto options = smallOptions("");
    options.steps = 4;
    auto model = test::tinyModel();
    core::LoraTrainer trainer(*model, options);
    class PauseFeedback : public core::Feedback
    {
    public:
        std::atomic<int64_t> step{0};
        void progress(const std::string &stage, int64_t done, int64_t) override
        {
            if (stage != "train")
                return;
            step = done;
            if (done == 1)
                pause();
        }
    } feedback;
    std::atomic<int64_t> stepWhilePaused{-1};
    std::thread resumer([&] {
        while (!feedback.isPaused())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        stepWhilePaused = feedback.step.load();
        feedback.resume();
    });
    auto result = trainer.run(examples, {}, feedback);
    resumer.join();
    COMPARE(stepWhilePaused.load(), int64_t(1));
    COMPARE(result.steps, int64_t(4));
    VERIFY(result.seconds < result.secondsPerStep * 4 + 0.3); // the pause is not training time
}

TEST_CASE(checkpointingDoesNotChangeTraining)
{
    auto examples = test::randomExamples(5, 12, 2, 6);
    std::vector<std::map<std::string, std::pair<torch::Tensor, torch::Tensor>>> weights;
    for (bool checkpointing : {true, false}) {
        auto model = test::tinyModel();
        auto options = smallOptions("");
        options.steps = 4;
        options.gradientCheckpointing = checkpointing;
        core::LoraTrainer trainer(*model, options);
        core::Feedback feedback;
        trainer.run(examples, {}, feedback);
        weights.push_back(weightsOf(trainer.attachment()));
    }
    const double diff = maxAdapterDiff(weights[0], weights[1]);
    test::info(
        test::str("4 steps with vs without gradient checkpointing: max abs LoRA weight difference ", diff));
    VERIFY(diff <= 1e-6);
}

// LoRA on the last layer only: the frozen layers' outputs, kept per example, give the training that
// recomputes them at every step (float64, with dropout, padded and packed rows, and a cap that keeps
// only some examples).
TEST_CASE(frozenPrefixDoesNotChangeTraining)
{
    auto examples = test::randomExamples(6, 14, 4, 5);
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> reference;
    for (bool packing : {false, true}) {
        for (int64_t cacheBytes : {int64_t(0), int64_t(-1), int64_t(2 * 13 * 64 * 8)}) {
            auto model = test::tinyModel(torch::kFloat64);
            core::TrainOptions options = smallOptions("");
            options.loraLayers = {2};
            options.packing = packing;
            options.packLength = 30;
            options.frozenPrefixBytes = cacheBytes;
            core::LoraTrainer trainer(*model, options);
            CountingFeedback feedback;
            trainer.run(examples, {}, feedback);
            auto weights = weightsOf(trainer.attachment());
            if (cacheBytes == 0)
                reference = weights;
            else
                VERIFY2(maxAdapterDiff(weights, reference) < 1e-10,
                        test::str(maxAdapterDiff(weights, reference)));
        }
    }
}

TEST_CASE(packedRowsMatchSeparateRows)
{
    // A packed row must give each document the loss it has alone.
    auto model = test::tinyModel();
    auto examples = test::randomExamples(2, 9, 2, 12);
    core::BatchOptions separate;
    separate.batchSize = 2;
    auto apart = core::collateBatch(examples, {{0}, {1}}, separate);
    core::BatchOptions packing = separate;
    packing.packing = true;
    packing.rowLength = 20;
    auto packed = core::collateBatch(examples, {{0, 1}}, packing);
    torch::NoGradGuard noGrad;
    auto a = core::batchLossSum(*model, apart, nullptr, false);
    auto b = core::batchLossSum(*model, packed, nullptr, false);
    COMPARE(a.tokens, b.tokens);
    test::info(
        test::str("packed vs separate rows: loss sums ", a.sum.item<double>(), " vs ", b.sum.item<double>()));
    VERIFY(std::abs(a.sum.item<double>() - b.sum.item<double>()) < 1e-4);
}

TEST_CASE(earlyStopping)
{
    auto train = test::randomExamples(4, 12, 2, 2);
    auto validation = test::randomExamples(3, 12, 2, 77); // unrelated: memorising hurts it
    auto options = smallOptions("");
    options.steps = 60;
    options.gradAccum = 1;
    options.learningRate = 3e-2;
    options.warmupRatio = 0;
    options.evalEvery = 2;
    options.earlyStoppingPatience = 2;
    auto model = test::tinyModel();
    core::LoraTrainer trainer(*model, options);
    CountingFeedback feedback;
    auto result = trainer.run(train, validation, feedback);
    test::info(test::str("early stopping: stopped at step ", int(result.steps), " of 60, best validation ",
                         result.bestValidationLoss, ", last ", result.finalValidationLoss));
    VERIFY(result.stoppedEarly);
    VERIFY(result.steps < 60);
    VERIFY(result.finalValidationLoss > result.bestValidationLoss);
}

TEST_CASE(layerDropPlugsBackIntoTheFullModel)
{
    test::TempDir dir;
    auto config = test::smallConfig("llama");
    config.numLayers = 6;
    core::ModelFiles files;
    files.path = "tiny";
    files.format = "hf";
    files.config = config;
    files.weights = test::randomWeights(config, 31);

    auto kept = core::layerDropSelection(6, {2, 1, 1});
    COMPARE(kept, (std::vector<int64_t>{0, 1, 3, 5}));
    VERIFY_THROWS(core::Error, core::layerDropSelection(6, {1, 1, 1}));
    VERIFY_THROWS(core::Error, core::layerDropSelection(2, {2, 1, 1}));
    // The stride for a parameter target: 4 of 6 layers fit in what 4 layers take.
    const int64_t fixed = config.totalParameters() - 6 * config.parametersPerLayer();
    COMPARE(core::layerDropStrideFor(config, fixed + 4 * config.parametersPerLayer()), int64_t(2));
    // 3 layers: stride 3 still keeps 0, 1, 4, 5; stride 4 keeps 0, 1, 5.
    COMPARE(core::layerDropStrideFor(config, fixed + 3 * config.parametersPerLayer()), int64_t(4));

    auto dropped = core::layerDropModel(files, kept);
    COMPARE(dropped.config.numLayers, int64_t(4));
    core::CausalLM emulator(dropped);
    COMPARE(maxAbsDiff(dropped.weights->tensor("model.layers.2.mlp.up_proj.weight"),
                       files.weights->tensor("model.layers.3.mlp.up_proj.weight")),
            0.0);

    auto options = smallOptions(dir.path());
    options.steps = 3;
    options.adapterLayerMap = core::layerDropMap(kept);
    core::LoraTrainer trainer(emulator, options);
    core::Feedback feedback;
    trainer.run(test::randomExamples(4, 10, 2, 3), {}, feedback);

    auto adapter = core::loadAdapter(dir.path());
    COMPARE(adapter.layers(), kept);
    auto json = nlohmann::json::parse(core::readTextFile(dir.filePath("adapter_config.json")));
    COMPARE(json["layers_to_transform"].get<std::vector<int64_t>>(), kept);
    core::CausalLM full(files);
    auto lora = core::attachLora(full, adapter.config, adapter.layers());
    core::loadAdapterInto(adapter, lora);
    auto trained = weightsOf(trainer.attachment());
    COMPARE(maxAbsDiff(lora.modules.back().second->b(), trained.at("model.layers.3.mlp.down_proj").second),
            0.0);
    VERIFY(lora.modules.back().second->b().abs().sum().item<double>() > 0);
}
