#pragma once
// What a vision-language model's vision side adds to the memory planner (plan/memory_plan.h): the tower
// and projector's weights and the tower's activations on one chunk of tiles; with a compressed tower, the
// emulator's smaller tower in fine-tuning and the compression's own memory in stage 1.

#include "emloc/plan/memory_plan.h"
#include "emloc/vision/vision_language_model.h"

namespace emloc::core {

// Sets settings' vision fields for `files`; visionRatio > 0: the emulator compresses the tower
// (EmulatorOptions::visionRatio). Reads settings.gramFloat64, cuda and calibrationSamples: set them first.
void addVisionToPlan(PlanSettings &settings, const VisionLanguageFiles &files, double visionRatio = 0);

} // namespace emloc::core
