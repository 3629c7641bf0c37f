#pragma once
// Reading one named tensor from a WeightSource with its shape checked, converted to where it will run.

#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"

#include <string>
#include <vector>

namespace emloc::core {

// Error names the tensor, the shape found and the shape the config implies.
torch::Tensor loadTensor(const WeightSource &weights, const std::string &name,
                         const std::vector<int64_t> &shape, const TensorPlacement &placement);

// headDim from the config, or hidden / heads when the config leaves it at 0.
int64_t headDimOf(const ModelConfig &config);

} // namespace emloc::core
