#pragma once
// What a vision-language model's vision side adds to the memory planner (plan/memory_plan.h): the tower
// and projector's weights and the tower's activations on one chunk of tiles.

#include "emloc/plan/memory_plan.h"
#include "emloc/vision/vision_language_model.h"

namespace emloc::core {

// Sets settings.visionParameters and settings.visionActivationValues for `files`.
void addVisionToPlan(PlanSettings &settings, const VisionLanguageFiles &files);

} // namespace emloc::core
