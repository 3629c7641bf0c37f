#include "emloc/vision/vision_plan.h"

#include "emloc/vision/internvl_weights.h"
#include "emloc/vision/vision_tower.h"

namespace emloc::core {

void addVisionToPlan(PlanSettings &settings, const VisionLanguageFiles &files)
{
    const VisionParameterCounts counts = countVisionParameters(*files.weights);
    settings.visionParameters = counts.tower + counts.projector;
    // One chunk of tiles through a layer: the hidden states with their norm, q, k, v and attention
    // outputs (6 widths), the MLP's inner width, and the attention weights (heads x tokens^2) where the
    // kernel materialises them.
    const VisionTowerConfig &vision = files.config.vision;
    const int64_t side = files.tiling.tileSize / vision.patchSize;
    const int64_t tokens = side * side + 1; // the patches and the class token
    const int64_t perTile =
        tokens * (6 * vision.hiddenSize + vision.intermediateSize) + vision.numHeads * tokens * tokens;
    settings.visionActivationValues = kTilesPerChunk * perTile;
}

} // namespace emloc::core
