#pragma once

#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/model/linear.h"

#include <torch/torch.h>

#include <memory>
#include <string>

namespace emloc::core {

// How an emulator stores a compressed projection beside the dense ones, under the module's Hugging Face
// name: "<module>.weight_u" is Wu [out, rank] and "<module>.weight_v" is Wv [rank, in] (method.md, stage 1
// step 5), "<module>.bias" stays as it was. A module has either ".weight" or both factors.
inline constexpr const char *kLowRankUpSuffix = ".weight_u";
inline constexpr const char *kLowRankDownSuffix = ".weight_v";

// y = up (down x) + b: the emulator's rank-k stand-in for a dense projection. Costs k (in + out)
// multiply-adds per token instead of in * out.
class LowRankLinear : public Linear
{
public:
    // Error names the shapes when up is not [out, k], down not [k, in] or the bias not [out].
    LowRankLinear(torch::Tensor up, torch::Tensor down, torch::Tensor bias = {});

    torch::Tensor forward(const torch::Tensor &x) const override;
    int64_t inFeatures() const override { return m_down.size(1); }
    int64_t outFeatures() const override { return m_up.size(0); }
    std::string kind() const override { return "low_rank"; }
    // "weight_u", "weight_v" and "bias" when there is one.
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const override;
    void to(torch::Device device, torch::ScalarType dtype) override;

    int64_t rank() const { return m_up.size(1); }
    const torch::Tensor &up() const { return m_up; }
    const torch::Tensor &down() const { return m_down; }
    const torch::Tensor &bias() const { return m_bias; }
    // up * down, for checks and for merging back.
    torch::Tensor composedWeight() const;

private:
    torch::Tensor m_up;
    torch::Tensor m_down;
    torch::Tensor m_bias;
};

// The projection `moduleName` ("model.layers.3.mlp.up_proj") as stored in `weights`: a DenseLinear from
// "<module>.weight", or a LowRankLinear from "<module>.weight_u"/"<module>.weight_v" (an emulator), with
// "<module>.bias" when stored (required when `biasRequired`). Shapes are checked against [out, in]; the
// Error names the tensor and the shape the config implies.
std::shared_ptr<Linear> makeLinear(const WeightSource &weights, const std::string &moduleName,
                                   int64_t outFeatures, int64_t inFeatures, const TensorPlacement &placement,
                                   bool biasRequired = false);

} // namespace emloc::core
