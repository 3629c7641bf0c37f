#pragma once
// InternViT and InternVL's projector: tiles of pixels in, language-model embeddings out, computed as
// transformers' InternVLModel.get_image_features computes them (class token, learned position
// embedding interpolated bicubically when the tile's patch grid differs from the checkpoint's, layer
// scale, QK norm where configured; then pixel-unshuffle by the downsample factor and the MLP projector).
// An emulator's tower (EmulatorOptions::visionRatio) holds some linears as low-rank factors
// ("<linear>.weight_u" / ".weight_v", low_rank_linear.h) instead of ".weight"; both kinds are read.

#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/vision/internvl_config.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace emloc::core {

// Tiles encoded together: bounds the attention's memory for images of many tiles.
constexpr int64_t kTilesPerChunk = 4;

class InternVisionTower
{
public:
    // Reads "vision_tower.*" and "multi_modal_projector.*" (internvl_weights.h names) from `weights`.
    // Error names the tensor that is missing or has the wrong shape.
    InternVisionTower(const InternVLConfig &config, const WeightSource &weights,
                      const TensorPlacement &placement);

    // pixelValues [tiles, 3, S, S], S a multiple of patch size x downsample factor. Returns
    // [tiles, (S / patch / factor)^2, language hidden] in the compute dtype. Tiles run a few at a time, so
    // a many-tile image costs the attention memory of those few.
    torch::Tensor imageEmbeddings(const torch::Tensor &pixelValues) const;

    // The same computation a layer at a time, for the emulator's calibration (stages/vision_emulator.h):
    // embedTiles, then runLayer for each of layerCount() layers, then embeddingsFromLayerOutput.
    int64_t layerCount() const { return static_cast<int64_t>(m_layers.size()); }
    // [tiles, 1 + patches, d]: the patches with the class token first and the position embedding added.
    torch::Tensor embedTiles(const torch::Tensor &pixels) const;
    // `observer` sees each linear's input under the linears' full names ("vision_tower.encoder.layer.3.
    // attention.q_proj"; q, k and v share one input).
    torch::Tensor runLayer(int64_t index, const torch::Tensor &hidden,
                           const LinearInputObserver &observer = {}) const;
    // The last layer's output [tiles, 1 + side^2, d] as language-model embeddings [tiles, tokens, hidden].
    torch::Tensor embeddingsFromLayerOutput(const torch::Tensor &hidden) const;
    // The linears of a layer, local names in forward order: attention.{q,k,v}_proj,
    // attention.projection_layer, mlp.fc1, mlp.fc2.
    static const std::vector<std::string> &linearNames();
    static std::string layerPrefix(int64_t index); // "vision_tower.encoder.layer.<index>."
    // A dense linear's weight [out, in]; Error when the layer holds it as factors.
    const torch::Tensor &denseWeight(int64_t index, const std::string &local) const;

private:
    // y = x W^T + b, or x (up down)^T + b for an emulator's factors.
    struct Projection
    {
        torch::Tensor weight, up, down, bias;
        torch::Tensor operator()(const torch::Tensor &x) const;
    };
    struct Layer
    {
        torch::Tensor normBeforeWeight, normBeforeBias, normAfterWeight, normAfterBias, qNorm, kNorm;
        std::map<std::string, Projection> linears; // by linearNames()
        torch::Tensor scale1, scale2;
    };

    torch::Tensor positionEmbedding(int64_t rows, int64_t columns) const;
    torch::Tensor norm(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias) const;
    torch::Tensor activation(const torch::Tensor &x, const std::string &kind) const;
    torch::Tensor project(const torch::Tensor &features) const;

    InternVLConfig m_config;
    TensorPlacement m_placement;
    torch::Tensor m_patchWeight, m_patchBias, m_classToken, m_positions;
    std::vector<Layer> m_layers;
    torch::Tensor m_finalNormWeight, m_finalNormBias; // hf layout without mean pooling only
    torch::Tensor m_projNormWeight, m_projNormBias, m_proj1Weight, m_proj1Bias, m_proj2Weight, m_proj2Bias;
};

} // namespace emloc::core
