#include "emloc/vision/vision_tower.h"

#include "emloc/api/error.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/model/weight_loading.h"

#include <cmath>

namespace emloc::core {

namespace {
// nn.LayerNorm's default epsilon, which both layouts' projector norm keeps.
constexpr double kProjectorNormEps = 1e-5;
} // namespace

InternVisionTower::InternVisionTower(const InternVLConfig &config, const WeightSource &weights,
                                     const TensorPlacement &placement)
    : m_config(config), m_placement(placement)
{
    const VisionTowerConfig &vision = config.vision;
    const int64_t d = vision.hiddenSize;
    const bool layerNorm = vision.normType == "layer_norm";
    auto load = [&](const std::string &name, std::vector<int64_t> shape) {
        return loadTensor(weights, name, shape, placement);
    };
    const std::string embeddings = "vision_tower.embeddings.";
    m_patchWeight =
        load(embeddings + "patch_embeddings.projection.weight", {d, 3, vision.patchSize, vision.patchSize});
    m_patchBias = load(embeddings + "patch_embeddings.projection.bias", {d});
    m_classToken = load(embeddings + "cls_token", {1, 1, d});
    m_positions =
        load(embeddings + "position_embeddings", {1, vision.positionGrid * vision.positionGrid + 1, d});
    for (int64_t i = 0; i < vision.usedLayers; ++i) {
        const std::string prefix = "vision_tower.encoder.layer." + std::to_string(i) + ".";
        Layer layer;
        layer.normBeforeWeight = load(prefix + "layernorm_before.weight", {d});
        layer.normAfterWeight = load(prefix + "layernorm_after.weight", {d});
        if (layerNorm) {
            layer.normBeforeBias = load(prefix + "layernorm_before.bias", {d});
            layer.normAfterBias = load(prefix + "layernorm_after.bias", {d});
        }
        if (vision.qkNorm) {
            layer.qNorm = load(prefix + "attention.q_norm.weight", {d});
            layer.kNorm = load(prefix + "attention.k_norm.weight", {d});
        }
        const int64_t inner = vision.intermediateSize;
        const std::map<std::string, std::pair<int64_t, int64_t>> shapes{
            {"attention.q_proj", {d, d}}, {"attention.k_proj", {d, d}},
            {"attention.v_proj", {d, d}}, {"attention.projection_layer", {d, d}},
            {"mlp.fc1", {inner, d}},      {"mlp.fc2", {d, inner}}};
        for (const std::string &local : linearNames()) {
            const auto [out, in] = shapes.at(local);
            const std::string name = prefix + local;
            const bool qkv = local != "attention.projection_layer" && local.rfind("attention.", 0) == 0;
            Projection projection;
            if (weights.contains(name + kLowRankUpSuffix)) { // an emulator's factors
                const std::vector<int64_t> upShape = weights.shape(name + kLowRankUpSuffix);
                const int64_t rank = upShape.size() == 2 ? upShape[1] : -1;
                projection.up = load(name + kLowRankUpSuffix, {out, rank});
                projection.down = load(name + kLowRankDownSuffix, {rank, in});
            } else {
                projection.weight = load(name + ".weight", {out, in});
            }
            if (!qkv || vision.qkvBias)
                projection.bias = load(name + ".bias", {out});
            layer.linears.emplace(local, std::move(projection));
        }
        layer.scale1 = load(prefix + "lambda_1", {d});
        layer.scale2 = load(prefix + "lambda_2", {d});
        m_layers.push_back(std::move(layer));
    }
    // The final LayerNorm applies to the last layer's output only, not to an earlier selected layer's.
    if (vision.finalNorm && vision.usedLayers == vision.numLayers) {
        m_finalNormWeight = load("vision_tower.layernorm.weight", {d});
        m_finalNormBias = load("vision_tower.layernorm.bias", {d});
    }
    const int64_t merged = d * config.unshuffleFactor * config.unshuffleFactor;
    const int64_t text = config.language.hiddenSize;
    const std::string projector = "multi_modal_projector.";
    m_projNormWeight = load(projector + "layer_norm.weight", {merged});
    m_projNormBias = load(projector + "layer_norm.bias", {merged});
    m_proj1Weight = load(projector + "linear_1.weight", {text, merged});
    m_proj1Bias = load(projector + "linear_1.bias", {text});
    m_proj2Weight = load(projector + "linear_2.weight", {text, text});
    m_proj2Bias = load(projector + "linear_2.bias", {text});
}

torch::Tensor InternVisionTower::norm(const torch::Tensor &x, const torch::Tensor &weight,
                                      const torch::Tensor &bias) const
{
    if (m_config.vision.normType == "rms_norm")
        return rmsNorm(x, weight, m_config.vision.normEps);
    return torch::layer_norm(x, {x.size(-1)}, weight, bias, m_config.vision.normEps);
}

torch::Tensor InternVisionTower::activation(const torch::Tensor &x, const std::string &kind) const
{
    return torch::gelu(x, kind == "gelu_pytorch_tanh" ? "tanh" : "none");
}

torch::Tensor InternVisionTower::positionEmbedding(int64_t rows, int64_t columns) const
{
    const int64_t grid = m_config.vision.positionGrid;
    if (rows == grid && columns == grid)
        return m_positions;
    const int64_t d = m_positions.size(-1);
    torch::Tensor patches =
        m_positions.narrow(1, 1, grid * grid).reshape({1, grid, grid, d}).permute({0, 3, 1, 2});
    namespace F = torch::nn::functional;
    patches = F::interpolate(patches, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{rows, columns})
                                          .mode(torch::kBicubic)
                                          .align_corners(false));
    patches = patches.permute({0, 2, 3, 1}).reshape({1, rows * columns, d});
    return torch::cat({m_positions.narrow(1, 0, 1), patches}, 1);
}

const std::vector<std::string> &InternVisionTower::linearNames()
{
    static const std::vector<std::string> names{"attention.q_proj", "attention.k_proj",
                                                "attention.v_proj", "attention.projection_layer",
                                                "mlp.fc1",          "mlp.fc2"};
    return names;
}

std::string InternVisionTower::layerPrefix(int64_t index)
{
    return "vision_tower.encoder.layer." + std::to_string(index) + ".";
}

const torch::Tensor &InternVisionTower::denseWeight(int64_t index, const std::string &local) const
{
    const Projection &projection = m_layers.at(static_cast<size_t>(index)).linears.at(local);
    if (!projection.weight.defined())
        throw Error(layerPrefix(index) + local + " is held as low-rank factors: this tower is an emulator's");
    return projection.weight;
}

torch::Tensor InternVisionTower::Projection::operator()(const torch::Tensor &x) const
{
    if (weight.defined())
        return torch::linear(x, weight, bias);
    return torch::linear(torch::linear(x, down), up, bias);
}

torch::Tensor InternVisionTower::embedTiles(const torch::Tensor &pixels) const
{
    const int64_t patch = m_config.vision.patchSize;
    torch::Tensor x = torch::conv2d(pixels, m_patchWeight, m_patchBias, {patch, patch});
    const int64_t rows = x.size(2);
    const int64_t columns = x.size(3);
    x = x.flatten(2).transpose(1, 2);
    x = torch::cat({m_classToken.expand({x.size(0), 1, x.size(2)}), x}, 1);
    return x + positionEmbedding(rows, columns);
}

torch::Tensor InternVisionTower::runLayer(int64_t index, const torch::Tensor &hidden,
                                          const LinearInputObserver &observer) const
{
    const Layer &layer = m_layers.at(static_cast<size_t>(index));
    const int64_t tiles = hidden.size(0);
    const int64_t tokens = hidden.size(1);
    const int64_t d = m_config.vision.hiddenSize;
    const int64_t heads = m_config.vision.numHeads;
    const std::string prefix = layerPrefix(index);
    auto observe = [&](std::initializer_list<const char *> locals, const torch::Tensor &input) {
        if (!observer)
            return;
        std::vector<std::string> names;
        for (const char *local : locals)
            names.push_back(prefix + local);
        observer(names, input.reshape({-1, input.size(-1)}));
    };
    auto linear = [&](const char *local, const torch::Tensor &x) { return layer.linears.at(local)(x); };
    const torch::Tensor normed = norm(hidden, layer.normBeforeWeight, layer.normBeforeBias);
    observe({"attention.q_proj", "attention.k_proj", "attention.v_proj"}, normed);
    torch::Tensor q = linear("attention.q_proj", normed);
    torch::Tensor k = linear("attention.k_proj", normed);
    torch::Tensor v = linear("attention.v_proj", normed);
    if (m_config.vision.qkNorm) { // over all heads at once, before the split, as InternViT does
        q = rmsNorm(q, layer.qNorm, m_config.vision.normEps);
        k = rmsNorm(k, layer.kNorm, m_config.vision.normEps);
    }
    auto heads4 = [&](const torch::Tensor &t) {
        return t.view({tiles, tokens, heads, d / heads}).transpose(1, 2);
    };
    torch::Tensor attended = at::scaled_dot_product_attention(heads4(q), heads4(k), heads4(v));
    attended = attended.transpose(1, 2).reshape({tiles, tokens, d});
    observe({"attention.projection_layer"}, attended);
    torch::Tensor x = hidden + layer.scale1 * linear("attention.projection_layer", attended);
    const torch::Tensor mlpInput = norm(x, layer.normAfterWeight, layer.normAfterBias);
    observe({"mlp.fc1"}, mlpInput);
    const torch::Tensor inner = activation(linear("mlp.fc1", mlpInput), m_config.vision.activation);
    observe({"mlp.fc2"}, inner);
    return x + layer.scale2 * linear("mlp.fc2", inner);
}

torch::Tensor InternVisionTower::project(const torch::Tensor &features) const
{
    // Pixel-unshuffle as InternVL's v2 pixel_shuffle: [tiles, side, side, C] -> [tiles, (side/f)^2, C f^2].
    const int64_t f = m_config.unshuffleFactor;
    const int64_t tiles = features.size(0);
    const int64_t side = features.size(1);
    const int64_t channels = features.size(3);
    torch::Tensor x = features.view({tiles, side, side / f, channels * f});
    x = x.permute({0, 2, 1, 3}).contiguous().view({tiles, side / f, side / f, channels * f * f});
    x = x.permute({0, 2, 1, 3}).contiguous().view({tiles, -1, channels * f * f});
    x = torch::layer_norm(x, {x.size(-1)}, m_projNormWeight, m_projNormBias, kProjectorNormEps);
    x = activation(torch::linear(x, m_proj1Weight, m_proj1Bias), m_config.projectorActivation);
    return torch::linear(x, m_proj2Weight, m_proj2Bias);
}

torch::Tensor InternVisionTower::embeddingsFromLayerOutput(const torch::Tensor &hidden) const
{
    torch::Tensor x = hidden;
    if (m_finalNormWeight.defined())
        x = torch::layer_norm(x, {x.size(-1)}, m_finalNormWeight, m_finalNormBias, m_config.vision.normEps);
    const int64_t side = static_cast<int64_t>(std::llround(std::sqrt(double(x.size(1) - 1))));
    if (side * side + 1 != x.size(1))
        throw Error("the vision tower's output has " + std::to_string(x.size(1)) +
                    " tokens, not a square of patches and the class token");
    return project(x.narrow(1, 1, side * side).reshape({x.size(0), side, side, -1})); // class token dropped
}

torch::Tensor InternVisionTower::imageEmbeddings(const torch::Tensor &pixelValues) const
{
    const int64_t step = m_config.vision.patchSize * m_config.unshuffleFactor;
    if (pixelValues.dim() != 4 || pixelValues.size(1) != 3 || pixelValues.size(2) != pixelValues.size(3) ||
        pixelValues.size(2) % step != 0)
        throw Error("image tiles must be [tiles, 3, S, S] with S a multiple of " + std::to_string(step) +
                    "; got " + c10::str(pixelValues.sizes()));
    if (pixelValues.size(0) == 0)
        return torch::empty({0, m_config.tokensPerTile(pixelValues.size(2)), m_config.language.hiddenSize},
                            torch::dtype(m_placement.dtype).device(m_placement.device));
    std::vector<torch::Tensor> chunks;
    for (int64_t start = 0; start < pixelValues.size(0); start += kTilesPerChunk) {
        const int64_t count = std::min(kTilesPerChunk, pixelValues.size(0) - start);
        torch::Tensor pixels = pixelValues.narrow(0, start, count).to(m_placement.device, m_placement.dtype);
        torch::Tensor x = embedTiles(pixels);
        for (int64_t index = 0; index < layerCount(); ++index)
            x = runLayer(index, x);
        chunks.push_back(embeddingsFromLayerOutput(x));
    }
    return torch::cat(chunks, 0);
}

} // namespace emloc::core
