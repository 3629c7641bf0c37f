#pragma once
// The defaults and accepted ranges of a run's settings, defined once: core's option structs and the
// configuration reader use them, the CLI's flags show them, and the Studio's fields start from them and
// offer the same ranges. Torch-free, so the Studio can include it.

#include <cstdint>

namespace emloc::core::run_defaults {

template <typename T> struct Setting
{
    T value; // the default
    T low;   // the accepted range, inclusive
    T high;
};

inline constexpr int64_t kMaxCount = int64_t(1) << 40; // "any count": steps, samples, intervals, seeds

// Data
inline constexpr Setting<int64_t> kMaxLength{512, 8, 1 << 20};   // tokens per example
inline constexpr Setting<double> kValidationFraction{0, 0, 0.9}; // of the training file
// Stage 1
inline constexpr Setting<double> kRatio{0.4, 1e-3, 1.0}; // the paper's emulator size
// The vision tower's ratio; 0: dense (the reference configuration compresses it at 0.4).
inline constexpr Setting<double> kVisionRatio{0.0, 0.0, 1.0};
inline constexpr Setting<int64_t> kCalibrationSamples{64, 1, kMaxCount};
// Stage 2: LoRA
inline constexpr Setting<int64_t> kLoraRank{8, 1, 4096};
inline constexpr Setting<double> kLoraAlpha{16, 1e-6, 1e6};
inline constexpr Setting<double> kLoraDropout{0.05, 0, 0.95};
// Stage 2: optimisation
inline constexpr Setting<int64_t> kSteps{0, 0, kMaxCount}; // 0: from kEpochs
inline constexpr Setting<double> kEpochs{1, 1e-6, 1e6};
inline constexpr Setting<int64_t> kBatch{2, 1, 1 << 16};     // rows per micro-batch
inline constexpr Setting<int64_t> kGradAccum{4, 1, 1 << 16}; // micro-batches per step
inline constexpr Setting<double> kLearningRate{1e-4, 1e-12, 10};
inline constexpr Setting<double> kWarmupRatio{0.03, 0, 0.99};
inline constexpr Setting<double> kWeightDecay{0.01, 0, 10};
inline constexpr Setting<int64_t> kEvalEvery{0, 0, kMaxCount}; // 0: validate at the end only
inline constexpr bool kGradientCheckpointing = true;
inline constexpr Setting<int64_t> kSeed{42, 0, kMaxCount};

} // namespace emloc::core::run_defaults
