#pragma once
// Stage 3 of EMLoC: the LoRA trained on the emulator is corrected for the original model, one module at
// a time, streamed from disk (only one original weight and one emulator weight are in memory at once).
// The maths is correctLora() (lora_correction.h); this is the file-level job around it.

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/math/linear_algebra.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

// The emulator's weights under the original model's names. "<module>.weight" is Wu Wv (product in
// float64, returned as float32) where the emulator folder stores the low-rank factors
// "<module>.weight_u" [m, k] / "<module>.weight_v" [k, n], the emulator's dense tensor where it stores
// one, and `original`'s tensor for anything the emulator folder leaves out (embeddings, norms, lm_head
// when the emulator only stores factors). Error names the folder when it is missing or holds no
// safetensors.
enum class EmulatorView {
    Composed, // "<module>.weight" = Wu Wv: what the correction compares with the original
    Factored, // "<module>.weight_u" / "<module>.weight_v" as stored: how the emulator runs (LowRankLinear),
              // at its own size; the original's dense "<module>.weight" stays hidden
};
std::shared_ptr<WeightSource> openEmulatorWeights(const std::string &emulatorDir,
                                                  std::shared_ptr<WeightSource> original,
                                                  EmulatorView view = EmulatorView::Composed);

struct ModuleCorrection
{
    std::string module;
    int64_t rank = 0;
    double scale = 1;           // s of the trained adapter
    double updateNorm = 0;      // ||s B A||_F, the learned update
    double emulatorGapNorm = 0; // ||W - W_E||_F, how far the emulator is from the layer
    double unclampedNorm = 0;   // ||C||_F before clamping
    double correctionNorm = 0;  // ||C||_F after clamping
    int64_t clampedComponents = 0;
};

// Written into a corrected adapter's folder (CorrectionReport::toJson); refined adapters and exports
// carry it on.
inline constexpr const char *kCorrectionReportFile = "correction_report.json";

struct CorrectionReport
{
    double clampLimit = 3; // <= 0: clamp disabled
    std::vector<ModuleCorrection> modules;
    double seconds = 0;
    int64_t clampedComponents() const;
    nlohmann::json toJson() const; // what correction_report.json holds
};

// The in-memory core: corrects every module of `adapter` (trained on `emulator` with its own scale)
// for `original`, streaming one module's weights at a time, computing in float64 on `device`.
// The result has scale 1 (lora_alpha = r, use_rslora false) and the same modules.
PeftAdapter correctAdapter(const PeftAdapter &adapter, const WeightSource &original,
                           const WeightSource &emulator, double clampLimit, const std::string &device,
                           CorrectionReport *report = nullptr, Feedback *feedback = nullptr);

struct CorrectionOptions
{
    std::string modelPath;    // the ORIGINAL model (HF folder or GGUF)
    std::string emulatorPath; // the emulator folder of stage 1
    std::string adapterPath;  // the PEFT adapter of stage 2 (trained on the emulator)
    std::string outDir;       // the corrected PEFT adapter (+ correction_report.json)
    double clampLimit = 3;    // <= 0 disables the clamp
    std::string device = "cpu";
    bool overwrite = false;
    // Extra files for the output folder (e.g. the pipeline's input hash).
    std::map<std::string, std::string> extraFiles;
};

// Reads the three inputs, validates the adapter against both models (shape mismatch: Error naming the
// module), corrects and writes `outDir` atomically (staged, read back, renamed). Progress "correct" per
// module; cancellable between modules.
CorrectionReport runCorrection(const CorrectionOptions &options, Feedback *feedback = nullptr);

} // namespace emloc::core
