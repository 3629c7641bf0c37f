#pragma once
// Stage 1 for a vision-language model's vision tower (EmulatorOptions::visionRatio): the calibration
// samples' images run through the original tower a layer at a time; each layer's linears get
// activation-aware factors from the Grams of their inputs, as the language model's do (method.md, stage 1),
// and the original tower's output gives the samples' image rows for the language model's calibration.

#include "emloc/api/job.h"
#include "emloc/math/linear_algebra.h"
#include "emloc/stages/calibration.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/vision/vision_language_model.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

struct VisionTowerEmulator
{
    // "<linear>.weight_u" / ".weight_v" of the compressed linears, in the stored dtype; the tower's other
    // tensors (dense linears, norms, biases, embeddings) and the projector stay the source's.
    std::vector<std::pair<std::string, torch::Tensor>> factors;
    nlohmann::json manifest; // emulator.json's "vision_tower"
};

// The file of an emulator folder that holds VisionTowerEmulator::factors.
inline constexpr const char *kVisionTowerFactorsFile = "vision_tower.safetensors";

// Fills calibration.imageRows (from the original tower) and returns the factors. Only the tower, one
// chunk of tiles and one layer's Grams are on the device; the tiles' hidden states wait on the CPU.
// Error names the record and image that cannot be read, or says that the samples hold no image.
VisionTowerEmulator compressVisionTower(const VisionLanguageFiles &source, CalibrationSet &calibration,
                                        const EmulatorOptions &options, const TensorPlacement &placement,
                                        torch::ScalarType mathDtype, torch::ScalarType outputDtype,
                                        const LinearAlgebra &linearAlgebra, Feedback &feedback);

} // namespace emloc::core
