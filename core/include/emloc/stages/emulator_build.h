#pragma once

#include "emloc/api/job.h"
#include "emloc/api/run_defaults.h"
#include "emloc/io/model_files.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/calibration.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

class Collective;

// A per-module exception to the uniform ratio: "PATTERN=RATIO", "PATTERN=dense" or "PATTERN=rank:K".
// PATTERN is a glob (fnmatch: * ? [..]) matched against the full module name
// ("model.layers.3.mlp.down_proj"), its local name ("mlp.down_proj") and its leaf ("down_proj").
struct ModuleRule
{
    enum class Kind { Ratio, Dense, Rank };
    std::string pattern;
    Kind kind = Kind::Ratio;
    double ratio = 0;
    int64_t rank = 0;

    bool matches(const std::string &moduleName) const;
    std::string text() const; // as parsed
};
// Error names the text and the accepted forms (and the ratio's range).
ModuleRule parseModuleRule(const std::string &text);

// Stage 1 (method.md): calibrate on the user's data and replace every decoder projection by its
// activation-aware rank-k factors.
struct EmulatorOptions
{
    std::string outputPath; // the emulator folder; it appears complete or not at all
    bool overwrite = false; // replace an existing folder at outputPath (only once the new one is complete)
    CalibrationOptions calibration;
    double ratio = run_defaults::kRatio.value; // fraction of each projection's parameters kept
    // A vision-language model's vision tower: the fraction of each of its linears' parameters kept,
    // calibrated on the samples' images; 0 keeps the tower dense. The projector stays dense. The overrides
    // apply to the tower's linears too ("vision_tower.encoder.layer.3.mlp.fc1", "mlp.fc1", "fc1").
    double visionRatio = run_defaults::kVisionRatio.value;
    std::vector<ModuleRule> overrides; // later rules win
    bool keepLastDownProjDense = true; // the paper's rule
    bool plainSvd = false;             // ablation: truncated SVD of W, no whitening
    // Refinement beyond the paper: ranks of the ratio-ruled projections from the whitened spectra of all
    // layers (largest s_i^2 first) under the uniform rule's parameter count. Off: the uniform rule.
    bool allocateRanks = false;
    bool gramFloat64 = false;          // accumulate Grams and factorize in float64
    std::string device = "cpu";        // "cpu", "cuda", "cuda:N"
    std::string computeDtype = "fp32"; // the layer forward: fp32, fp64 (exact checks), bf16/fp16 (CUDA)
    std::string outputDtype = "auto";  // stored dtype: auto (the source's float dtype), fp32, bf16, fp16
    int64_t chunkSize = 4;             // calibration sequences per layer forward
    double whiteningEpsilon = 1e-7;
    // Several processes (not owned; null: one): the calibration chunks are dealt over the ranks, each
    // layer's Grams summed over them, and rank 0 alone factorizes and writes the emulator. The result is
    // the single process's up to the order of the sums.
    Collective *collective = nullptr;
};

// What one build did; `manifest` is the emulator.json written into the folder.
struct EmulatorBuildResult
{
    std::string outputPath;
    double seconds = 0;
    int64_t peakMemoryBytes = 0;
    int64_t imageEncodingPeakBytes = 0; // a vision-language model's: the tower's run on the samples' images
    int64_t originalParameters = 0;
    int64_t emulatorParameters = 0;
    int64_t calibrationTokens = 0;
    nlohmann::json manifest;
};

// Builds the emulator of `source` layer by layer: only one decoder layer, the calibration hidden states
// and the Grams are resident at a time. Progress: "calibrate" (embedding the samples), then "build" per
// layer with a metric sample (current / peak memory) each; checkpoint() between layers and chunks. On
// any failure or cancel nothing is left at options.outputPath (an existing folder stays intact).
EmulatorBuildResult buildEmulator(const ModelFiles &source, const EmulatorOptions &options,
                                  Feedback &feedback);
// A vision-language model's: its language model's emulator, calibrated on the records' text and images
// (the tower and the projector run once on the chosen samples' images, then are freed). The manifest's
// "vision_tower" says the later stages read the tower from the source; with options.visionRatio the
// tower's linears are compressed too (calibrated on the images, layer by layer through the original
// tower), their factors in the folder's vision_tower.safetensors.
EmulatorBuildResult buildEmulator(const VisionLanguageFiles &source, const EmulatorOptions &options,
                                  Feedback &feedback);
// The same with the samples already chosen (loadCalibrationSet without a placement): their image rows are
// computed here. The result's time and peak include the tower's run (imageEncodingPeakBytes: its own).
EmulatorBuildResult buildEmulator(const VisionLanguageFiles &source, CalibrationSet calibration,
                                  const EmulatorOptions &options, Feedback &feedback);
// The same with the calibration samples already chosen (tests, the GUI's preview).
EmulatorBuildResult buildEmulator(const ModelFiles &source, const CalibrationSet &calibration,
                                  const EmulatorOptions &options, Feedback &feedback);

// Where the build's forward runs: options.device, options.computeDtype.
TensorPlacement emulatorBuildPlacement(const EmulatorOptions &options);

// The planner's settings for this build (stage 1 items: calibration tokens, chunk, Gram dtype).
PlanSettings constructionPlanSettings(const EmulatorOptions &options, const CalibrationSet &calibration);

// The emulator.json of a folder; Error when the folder is not an emulator.
nlohmann::json readEmulatorManifest(const std::string &folder);

// A cheap fingerprint of a model (sha256, hex): config.json, every safetensors header and the file sizes
// for a folder; the size, the first 8 MiB and the last 1 MiB for a GGUF file. Changes when the weights
// are replaced, without reading gigabytes.
std::string modelFingerprint(const std::string &modelPath);

// SHA-256 of bytes, hex.
std::string sha256Hex(const std::string &bytes);

// The ratios of emulator.json's retained-energy curves.
std::vector<double> energyCurveRatios();

} // namespace emloc::core
