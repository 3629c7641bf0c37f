#include "emloc/vision/vision_plan.h"

#include "emloc/math/activation_svd.h"
#include "emloc/vision/internvl_weights.h"
#include "emloc/vision/vision_tower.h"

#include <algorithm>

namespace emloc::core {

void addVisionToPlan(PlanSettings &settings, const VisionLanguageFiles &files, double visionRatio)
{
    const VisionParameterCounts counts = countVisionParameters(*files.weights);
    settings.visionParameters = counts.tower + counts.projector;
    // One chunk of tiles through a layer: the hidden states with their norm, q, k, v and attention
    // outputs (6 widths), the MLP's inner width, and the attention weights (heads x tokens^2) where the
    // kernel materialises them.
    const VisionTowerConfig &vision = files.config.vision;
    const int64_t d = vision.hiddenSize;
    const int64_t inner = vision.intermediateSize;
    const int64_t side = files.tiling.tileSize / vision.patchSize;
    const int64_t tokens = side * side + 1; // the patches and the class token
    const int64_t perTile = tokens * (6 * d + inner) + vision.numHeads * tokens * tokens;
    settings.visionActivationValues = kTilesPerChunk * perTile;
    settings.visionEmulatorParameters = 0;
    settings.visionCompressionBytes = 0;
    if (visionRatio <= 0)
        return;

    // The emulator's tower: each used layer's linears at the ratio (dense where factors would not be
    // smaller), the rest as the source's. The overrides are not planned, as for the language model.
    int64_t saved = 0;
    const std::pair<int64_t, int64_t> shapes[] = {{d, d}, {d, d}, {d, d}, {d, d}, {inner, d}, {d, inner}};
    for (const auto &[out, in] : shapes) {
        const int64_t rank = rankForRatio(visionRatio, out, in);
        saved += std::max<int64_t>(0, out * in - rank * (out + in));
    }
    settings.visionEmulatorParameters = settings.visionParameters - vision.usedLayers * saved;
    // Stage 1: the Grams of one layer's four inputs (q/k/v share one), the factorisation of its largest
    // linear (the MLP's), and on the CPU the calibration tiles' hidden states in float32 (a sample's image
    // at most its tiles and the thumbnail).
    const int64_t gramBytes = (3 * d * d + inner * inner) * (settings.gramFloat64 ? 8 : 4);
    const int64_t svdWorkspace = (4 * inner * d + 3 * inner * inner) * 4;
    const int64_t tileStates =
        settings.cuda ? 0 : settings.calibrationSamples * (files.tiling.maxTiles + 1) * tokens * d * 4;
    settings.visionCompressionBytes = gramBytes + svdWorkspace + tileStates;
}

} // namespace emloc::core
