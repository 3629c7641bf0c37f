#pragma once
// Precompiled for every core translation unit: LibTorch dominates compile time.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
