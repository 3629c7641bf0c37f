#pragma once
// The trainer's checkpoint folder: a loadable PEFT adapter plus everything needed to continue the run
// bit for bit (optimizer moments and step, generator states, data position, early-stopping state).

#include "emloc/model/lora_adapter.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

struct TrainingCheckpoint
{
    LoraAdapter adapter;                                          // in the trained model's layer numbering
    std::vector<std::pair<std::string, torch::Tensor>> optimizer; // AdamW::stateTensors()
    std::vector<std::pair<std::string, torch::Tensor>> rngStates; // "rng.cpu", "rng.cuda"
    nlohmann::json state; // step, cursor, elapsed, early stopping, settings fingerprint
};

// Writes `<outputDir>/checkpoint` through a complete sibling folder that is renamed into place; the
// previous checkpoint is kept (as checkpoint.previous) until the new one is in place.
void writeTrainingCheckpoint(const std::string &outputDir, const TrainingCheckpoint &checkpoint);

// The newest complete checkpoint of `outputDir`, or nothing when there is none.
std::optional<TrainingCheckpoint> readTrainingCheckpoint(const std::string &outputDir);

std::string checkpointFolder(const std::string &outputDir);

} // namespace emloc::core
