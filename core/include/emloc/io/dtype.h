#pragma once
// The float types' one table of names (emloc/api/dtype_names.h) as LibTorch's types.

#include "emloc/api/dtype_names.h"

#include <torch/torch.h>

#include <optional>
#include <string>
#include <string_view>

namespace emloc::core {

// Any name floatTypeFromName knows, as LibTorch's type; nullopt for any other name.
std::optional<torch::ScalarType> floatDtypeFromName(std::string_view name);

// "float32", "bfloat16", "float16", "float64"; another type by LibTorch's name.
std::string hfDtypeName(torch::ScalarType type);
// "fp32", "bf16", "fp16", "fp64"; another type by LibTorch's name.
std::string shortDtypeName(torch::ScalarType type);

} // namespace emloc::core
