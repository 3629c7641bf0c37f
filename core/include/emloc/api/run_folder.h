#pragma once
// The layout of a run's output folder (`emloc run`, the Studio's Run): one definition for the pipeline
// that writes it and the front ends that read it back. Torch-free.

#include <filesystem>

namespace emloc::core {

struct RunFolder
{
    std::filesystem::path root;

    std::filesystem::path configuration() const { return root / "run-config.json"; } // as it ran
    std::filesystem::path emulator() const { return root / "emulator"; }             // stage 1
    std::filesystem::path emulatorReport() const { return emulator() / "emulator.json"; }
    std::filesystem::path training() const { return root / "train"; } // stage 2: LoRA, checkpoint
    std::filesystem::path trainingMetrics() const { return training() / "metrics.jsonl"; }
    std::filesystem::path correctedAdapter() const { return root / "corrected-adapter"; } // stage 3
    std::filesystem::path refinedAdapter() const { return root / "refined-adapter"; }
    std::filesystem::path exports() const { return root / "export"; }
    std::filesystem::path summary() const { return root / "summary.json"; } // PipelineResult
};

} // namespace emloc::core
