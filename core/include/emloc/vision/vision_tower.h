#pragma once
// InternViT and InternVL's projector: tiles of pixels in, language-model embeddings out, computed as
// transformers' InternVLModel.get_image_features computes them (class token, learned position
// embedding interpolated bicubically when the tile's patch grid differs from the checkpoint's, layer
// scale, QK norm where configured; then pixel-unshuffle by the downsample factor and the MLP projector).

#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/vision/internvl_config.h"

#include <torch/torch.h>

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

private:
    struct Layer
    {
        torch::Tensor normBeforeWeight, normBeforeBias, normAfterWeight, normAfterBias;
        torch::Tensor qWeight, qBias, kWeight, kBias, vWeight, vBias, qNorm, kNorm;
        torch::Tensor outWeight, outBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias, scale1, scale2;
    };

    torch::Tensor embedPatches(const torch::Tensor &pixels) const;
    torch::Tensor positionEmbedding(int64_t rows, int64_t columns) const;
    torch::Tensor runLayer(const Layer &layer, const torch::Tensor &hidden) const;
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
