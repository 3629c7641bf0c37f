#include "vision_emulator.h"

#include "emloc/api/error.h"
#include "emloc/math/activation_svd.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/internvl_tiles.h"
#include "emloc/vision/vision_tower.h"
#include "module_plan.h"

#include <map>

namespace emloc::core {

namespace {

// `run` on `tiles` a chunk at a time on the device, the results back on the CPU.
template <typename Run>
torch::Tensor inChunks(const torch::Tensor &tiles, const TensorPlacement &placement, Run run)
{
    std::vector<torch::Tensor> outputs;
    for (int64_t start = 0; start < tiles.size(0); start += kTilesPerChunk) {
        const int64_t count = std::min(kTilesPerChunk, tiles.size(0) - start);
        outputs.push_back(
            run(tiles.narrow(0, start, count).to(placement.device, placement.dtype)).to(torch::kCPU));
    }
    return torch::cat(outputs, 0);
}

} // namespace

VisionTowerEmulator compressVisionTower(const VisionLanguageFiles &source, CalibrationSet &calibration,
                                        const EmulatorOptions &options, const TensorPlacement &placement,
                                        torch::ScalarType mathDtype, torch::ScalarType outputDtype,
                                        const LinearAlgebra &linearAlgebra, Feedback &feedback)
{
    torch::NoGradGuard noGrad;
    if (calibration.images == 0)
        throw Error(
            "emulator.vision_ratio compresses the vision tower on the calibration samples' images, but "
            "the " +
            std::to_string(calibration.sequences.size()) + " samples drawn from '" + calibration.dataPath +
            "' hold none; use a dataset with images, or leave the tower dense (vision_ratio 0)");
    const InternVisionTower tower(source.config, *source.weights, placement);

    // Each sample's tiles, patch-embedded; between layers they wait on the CPU.
    const size_t samples = calibration.sequences.size();
    std::vector<torch::Tensor> hidden(samples);
    int64_t tiles = 0;
    for (size_t i = 0; i < samples; ++i) {
        feedback.checkpoint();
        feedback.progress("images", static_cast<int64_t>(i), static_cast<int64_t>(samples));
        const std::vector<std::string> &images = calibration.imageSources[i];
        std::vector<torch::Tensor> pixels;
        for (size_t j = 0; j < images.size(); ++j) {
            const std::string where = calibration.dataPath + ": record " +
                                      std::to_string(calibration.recordNumbers[i]) + ", image " +
                                      std::to_string(j + 1);
            pixels.push_back(
                pixelValues(tileImage(readImageSource(images[j], where), source.tiling), source.tiling));
        }
        if (pixels.empty())
            continue;
        const torch::Tensor all = torch::cat(pixels, 0);
        tiles += all.size(0);
        hidden[i] = inChunks(all, placement, [&](const torch::Tensor &x) { return tower.embedTiles(x); });
    }

    VisionTowerEmulator result;
    nlohmann::json modules = nlohmann::json::object();
    int64_t linearParameters = 0, keptParameters = 0;
    double clampedEigenvalues = 0;
    for (int64_t index = 0; index < tower.layerCount(); ++index) {
        feedback.checkpoint();
        feedback.progress("vision tower", index, tower.layerCount());
        // The original layer's outputs are the next layer's inputs, as in the language model's build.
        GramAccumulator grams(mathDtype);
        const LinearInputObserver observer = grams.observer();
        for (torch::Tensor &states : hidden)
            if (states.defined())
                states = inChunks(states, placement,
                                  [&](const torch::Tensor &x) { return tower.runLayer(index, x, observer); });

        std::map<std::string, Whitening> whitenings; // q, k and v share one input
        for (const std::string &local : InternVisionTower::linearNames()) {
            const std::string name = InternVisionTower::layerPrefix(index) + local;
            const torch::Tensor &weight = tower.denseWeight(index, local);
            const int64_t out = weight.size(0), in = weight.size(1);
            linearParameters += out * in;
            const ModulePlan plan = planModule(name, out, in, false, options.visionRatio, options);
            nlohmann::json record{{"out", out}, {"in", in}, {"rule", plan.rule}};
            if (plan.dense) {
                record["kind"] = "dense";
                record["parameters"] = out * in;
                keptParameters += out * in;
                modules[name] = record;
                continue;
            }
            Whitening whitening;
            if (!options.plainSvd)
                whitening = groupWhitening(grams, name, whitenings, linearAlgebra, options.whiteningEpsilon,
                                           clampedEigenvalues);
            const LowRankFactors factors =
                factorizeLinear(weight.to(mathDtype), whitening, plan.rank, linearAlgebra);
            recordSpectrum(record, factors.singularValues.to(torch::kCPU, torch::kFloat64).square(),
                           plan.rank);
            record["kind"] = "low_rank";
            record["parameters"] = plan.rank * (out + in);
            keptParameters += plan.rank * (out + in);
            modules[name] = record;
            result.factors.emplace_back(name + kLowRankUpSuffix,
                                        factors.up.to(torch::kCPU, outputDtype).contiguous());
            result.factors.emplace_back(name + kLowRankDownSuffix,
                                        factors.down.to(torch::kCPU, outputDtype).contiguous());
        }
    }
    feedback.progress("vision tower", tower.layerCount(), tower.layerCount());

    // The original tower's output is what the language model's calibration sees.
    for (size_t i = 0; i < samples; ++i)
        if (hidden[i].defined()) {
            const torch::Tensor rows = inChunks(hidden[i], placement, [&](const torch::Tensor &x) {
                return tower.embeddingsFromLayerOutput(x);
            });
            calibration.imageRows[i] = rows.reshape({-1, rows.size(-1)});
            hidden[i] = torch::Tensor();
        }

    result.manifest = {{"kind", "compressed"},
                       {"ratio", options.visionRatio},
                       {"method", options.plainSvd ? "plain SVD (ablation)" : "activation-aware SVD"},
                       {"weights", kVisionTowerFactorsFile},
                       {"rest", "the source's (norms, biases, embeddings, dense linears, the projector)"},
                       {"calibration_tiles", tiles},
                       {"clamped_eigenvalues", static_cast<int64_t>(clampedEigenvalues)},
                       {"linear_parameters", linearParameters},
                       {"parameters", keptParameters},
                       {"modules", modules}};
    return result;
}

} // namespace emloc::core
