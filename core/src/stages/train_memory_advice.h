#pragma once

#include "emloc/stages/train_loop.h"

#include <string>

namespace emloc::core {

// The planner's itemised estimate for a run that ran out of memory, and what to change.
// `denseLinearParameters` (the decoder projections of the model being trained) locates the emulator's ratio.
std::string outOfMemoryAdvice(const ModelConfig &config, const TrainOptions &options,
                              int64_t denseLinearParameters, int64_t sequenceLength, bool cuda);

} // namespace emloc::core
