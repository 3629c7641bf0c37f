#include "emloc/stages/layer_drop.h"

#include "emloc/api/error.h"

#include <algorithm>

namespace emloc::core {

namespace {
const std::string kLayerPrefix = "model.layers.";

// The original's weights under the emulator's layer numbering.
class LayerDropWeights : public WeightSource
{
public:
    LayerDropWeights(std::shared_ptr<WeightSource> original, std::vector<int64_t> kept)
        : m_original(std::move(original)), m_kept(std::move(kept))
    {}

    std::vector<std::string> names() const override
    {
        std::vector<std::string> result;
        std::map<int64_t, int64_t> back;
        for (size_t j = 0; j < m_kept.size(); ++j)
            back[m_kept[j]] = static_cast<int64_t>(j);
        for (const auto &name : m_original->names()) {
            if (name.rfind(kLayerPrefix, 0) != 0) {
                result.push_back(name);
                continue;
            }
            const size_t dot = name.find('.', kLayerPrefix.size());
            auto found = back.find(std::stoll(name.substr(kLayerPrefix.size(), dot - kLayerPrefix.size())));
            if (found != back.end())
                result.push_back(kLayerPrefix + std::to_string(found->second) + name.substr(dot));
        }
        return result;
    }
    bool contains(const std::string &name) const override
    {
        auto original = originalName(name);
        return !original.empty() && m_original->contains(original);
    }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        return m_original->shape(mapped(name));
    }
    torch::Tensor tensor(const std::string &name) const override { return m_original->tensor(mapped(name)); }

private:
    std::string originalName(const std::string &name) const
    {
        if (name.rfind(kLayerPrefix, 0) != 0)
            return name;
        const size_t dot = name.find('.', kLayerPrefix.size());
        const std::string digits = name.substr(kLayerPrefix.size(), dot - kLayerPrefix.size());
        if (dot == std::string::npos || digits.empty() ||
            digits.find_first_not_of("0123456789") != std::string::npos)
            return {};
        const int64_t index = std::stoll(digits);
        if (index >= static_cast<int64_t>(m_kept.size()))
            return {};
        return kLayerPrefix + std::to_string(m_kept[static_cast<size_t>(index)]) + name.substr(dot);
    }
    std::string mapped(const std::string &name) const
    {
        auto original = originalName(name);
        if (original.empty())
            throw Error("the layer-drop emulator has no tensor " + name + " (it keeps " +
                        std::to_string(m_kept.size()) + " layers)");
        return original;
    }

    std::shared_ptr<WeightSource> m_original;
    std::vector<int64_t> m_kept;
};
} // namespace

std::vector<int64_t> layerDropSelection(int64_t numLayers, const LayerDropOptions &options)
{
    if (options.stride < 2)
        throw Error("the layer-drop stride must be at least 2 (1 keeps every layer), got " +
                    std::to_string(options.stride));
    if (options.keepFirst < 0 || options.keepLast < 0 || options.keepFirst + options.keepLast >= numLayers)
        throw Error("keeping " + std::to_string(options.keepFirst) + " first and " +
                    std::to_string(options.keepLast) + " last layers leaves no middle layer to drop in a " +
                    std::to_string(numLayers) + "-layer model");
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < numLayers; ++i) {
        const bool edge = i < options.keepFirst || i >= numLayers - options.keepLast;
        if (edge || (i - options.keepFirst) % options.stride == 0)
            kept.push_back(i);
    }
    return kept;
}

int64_t layerDropStrideFor(const ModelConfig &config, int64_t targetParameters, int64_t keepFirst,
                           int64_t keepLast)
{
    const int64_t fixed = config.totalParameters() - config.numLayers * config.parametersPerLayer();
    const int64_t middle = config.numLayers - keepFirst - keepLast;
    for (int64_t stride = 2; stride <= std::max<int64_t>(2, middle); ++stride) {
        const auto kept = layerDropSelection(config.numLayers, {stride, keepFirst, keepLast});
        if (fixed + static_cast<int64_t>(kept.size()) * config.parametersPerLayer() <= targetParameters)
            return stride;
    }
    return std::max<int64_t>(2, middle);
}

ModelFiles layerDropModel(const ModelFiles &original, const std::vector<int64_t> &kept)
{
    if (kept.empty())
        throw Error("a layer-drop emulator needs at least one layer");
    for (size_t j = 0; j < kept.size(); ++j)
        if (kept[j] < 0 || kept[j] >= original.config.numLayers || (j > 0 && kept[j] <= kept[j - 1]))
            throw Error("layer-drop indices must be ascending and below " +
                        std::to_string(original.config.numLayers));
    ModelFiles result = original;
    result.format = original.format + "+layer-drop";
    result.config.numLayers = static_cast<int64_t>(kept.size());
    if (result.config.raw.is_object())
        result.config.raw["num_hidden_layers"] = result.config.numLayers;
    result.weights = std::make_shared<LayerDropWeights>(original.weights, kept);
    return result;
}

std::map<int64_t, int64_t> layerDropMap(const std::vector<int64_t> &kept)
{
    std::map<int64_t, int64_t> map;
    for (size_t j = 0; j < kept.size(); ++j)
        map[static_cast<int64_t>(j)] = kept[j];
    return map;
}

} // namespace emloc::core
