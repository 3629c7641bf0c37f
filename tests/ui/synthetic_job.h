#pragma once

// A job that reports like the EMLoC pipeline (calibrate, build, train with validation, correct)
// without an engine: for the GUI's tests and screenshots. Its numbers are made up and smooth; its
// timing, checkpoints, pause and cancel behaviour are real.

#include "emloc/api/job.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace emloc::ui::testing {

struct SyntheticJobState
{
    std::atomic<int> trainingStepsDone{0};
    std::atomic<int> samplesSent{0};
    std::atomic<int> logLinesSent{0};
    std::atomic<bool> started{false};
    std::atomic<bool> returned{false}; // the body returned or threw
};

struct SyntheticJobOptions
{
    int trainingSteps = 300;
    int validateEvery = 25;
    int layers = 30; // build and correct report one step per layer
    std::chrono::microseconds stepTime{2000};
    double simulatedSecondsPerStep = 1.9; // the elapsed time the samples report
    bool throwAtEnd = false;              // fail with an emloc::core::Error-like message
};

inline std::function<void(core::Feedback &)> syntheticTrainingJob(SyntheticJobOptions options,
                                                                  std::shared_ptr<SyntheticJobState> state)
{
    return [options, state](core::Feedback &feedback) {
        struct Guard
        {
            SyntheticJobState *state;
            ~Guard() { state->returned = true; }
        } guard{state.get()};
        state->started = true;
        constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
        double clock = 0;
        const auto sleep = [&] { std::this_thread::sleep_for(options.stepTime); };
        const auto log = [&](const std::string &text, core::LogLevel level = core::LogLevel::Info) {
            feedback.log(level, text);
            ++state->logLinesSent;
        };
        const auto send = [&](core::MetricSample sample) {
            feedback.metric(sample);
            ++state->samplesSent;
        };
        // Deterministic noise: the same run every time.
        uint32_t seed = 12345;
        const auto noise = [&seed] {
            seed = seed * 1664525u + 1013904223u;
            return static_cast<double>(seed >> 8) / static_cast<double>(1u << 24) - 0.5;
        };

        log("Calibrating on 64 samples of the training data");
        for (int i = 1; i <= 8; ++i) {
            feedback.checkpoint();
            sleep();
            clock += 4.0;
            feedback.progress("calibrate", i, 8);
            core::MetricSample sample;
            sample.stage = "calibrate";
            sample.step = i;
            sample.totalSteps = 8;
            sample.elapsedSeconds = clock;
            sample.memoryBytes = static_cast<int64_t>((1.2 + 0.15 * i) * kGiB);
            sample.peakMemoryBytes = sample.memoryBytes;
            send(sample);
        }
        log("Building the emulator: " + std::to_string(options.layers) + " layers at ratio 0.40");
        for (int layer = 1; layer <= options.layers; ++layer) {
            feedback.checkpoint();
            sleep();
            clock += 1.5;
            feedback.progress("build", layer, options.layers);
            core::MetricSample sample;
            sample.stage = "build";
            sample.step = layer;
            sample.totalSteps = options.layers;
            sample.elapsedSeconds = clock;
            sample.memoryBytes = static_cast<int64_t>((2.4 + 0.25 * std::sin(layer * 0.7)) * kGiB);
            sample.peakMemoryBytes = static_cast<int64_t>(2.75 * kGiB);
            send(sample);
        }

        log("Fine-tuning LoRA (rank 8) on the emulator for " + std::to_string(options.trainingSteps) +
            " steps");
        double peak = 2.75;
        for (int step = 1; step <= options.trainingSteps; ++step) {
            feedback.checkpoint();
            sleep();
            clock += options.simulatedSecondsPerStep * (1.0 + 0.05 * noise());
            core::MetricSample sample;
            sample.stage = "train";
            sample.step = step;
            sample.totalSteps = options.trainingSteps;
            sample.elapsedSeconds = clock;
            sample.loss = 0.72 + 1.65 * std::exp(-step / 55.0) + 0.18 * noise();
            const double warmup = std::max(1.0, 0.03 * options.trainingSteps);
            sample.learningRate =
                step < warmup
                    ? 2e-4 * step / warmup
                    : 1e-4 * (1 + std::cos(M_PI * (step - warmup) / (options.trainingSteps - warmup)));
            sample.gradNorm = 0.8 + 0.3 * noise();
            sample.tokensPerSecond = 2150 + 120 * noise();
            sample.etaSeconds = (options.trainingSteps - step) * options.simulatedSecondsPerStep;
            const double memory = 3.35 + 0.55 * ((step % 4) / 3.0) + 0.04 * noise();
            peak = std::max(peak, memory);
            sample.memoryBytes = static_cast<int64_t>(memory * kGiB);
            sample.peakMemoryBytes = static_cast<int64_t>(peak * kGiB);
            send(sample);
            ++state->trainingStepsDone;
            feedback.progress("train", step, options.trainingSteps);
            if (options.validateEvery > 0 && step % options.validateEvery == 0) {
                core::MetricSample validation = sample;
                validation.stage = "validate";
                validation.loss = -1;
                validation.validationLoss = 0.86 + 1.5 * std::exp(-step / 60.0) + 0.02 * noise();
                send(validation);
                log("step " + std::to_string(step) + ": validation loss " +
                    std::to_string(validation.validationLoss).substr(0, 5));
            }
        }

        log("Correcting the LoRA for the original model");
        for (int layer = 1; layer <= options.layers; ++layer) {
            feedback.checkpoint();
            sleep();
            clock += 0.4;
            feedback.progress("correct", layer, options.layers);
            core::MetricSample sample;
            sample.stage = "correct";
            sample.step = layer;
            sample.totalSteps = options.layers;
            sample.elapsedSeconds = clock;
            sample.memoryBytes = static_cast<int64_t>(2.1 * kGiB);
            sample.peakMemoryBytes = static_cast<int64_t>(peak * kGiB);
            send(sample);
        }
        if (options.throwAtEnd)
            throw std::runtime_error(
                "Cannot write adapter_model.safetensors: disk full. Free some space and retry.");
        log("Done: the corrected adapter is ready to export");
    };
}

} // namespace emloc::ui::testing
