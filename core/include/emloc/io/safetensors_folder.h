#pragma once
// Tensors written as a Hugging Face model folder's weights: model.safetensors, or shards of at most
// 2 GiB with model.safetensors.index.json. Only one shard's tensors are in memory at a time.

#include "emloc/api/job.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emloc::core {

struct SafetensorsFolderInput
{
    std::vector<std::string> names;                             // in the order they are written
    std::function<uint64_t(const std::string &)> bytesOf;       // as written, from the shape alone
    std::function<torch::Tensor(const std::string &)> tensorOf; // the tensor as written (its dtype)
};

// Writes into `folder` (which exists). Progress "convert" per tensor; checkpoint() between tensors.
void writeSafetensorsFolder(const std::string &folder, const SafetensorsFolderInput &input,
                            Feedback *feedback = nullptr);

} // namespace emloc::core
