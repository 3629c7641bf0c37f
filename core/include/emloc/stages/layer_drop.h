#pragma once

#include "emloc/io/model_files.h"

#include <cstdint>
#include <map>
#include <vector>

namespace emloc::core {

// The Offsite-tuning baseline's emulator: a model made of some of the original's decoder blocks
// (the first and last few kept, every k-th block in between), run unchanged. LoRA trained on it is
// plugged back into the same blocks of the full model.
struct LayerDropOptions
{
    int64_t stride = 2;    // keep every stride-th middle block
    int64_t keepFirst = 1; // dense blocks kept at the start
    int64_t keepLast = 1;  // and at the end
};

// Original indices of the kept blocks, ascending. Error when nothing would be dropped or the options are
// out of range.
std::vector<int64_t> layerDropSelection(int64_t numLayers, const LayerDropOptions &options);

// The smallest stride whose emulator has at most `targetParameters` parameters (embeddings and head
// included); the largest sensible stride when none is that small.
int64_t layerDropStrideFor(const ModelConfig &config, int64_t targetParameters, int64_t keepFirst = 1,
                           int64_t keepLast = 1);

// A model that reads only the kept blocks of `original`, renumbered 0..kept-1 (lazy: no weight is read
// here). format becomes "<format>+layer-drop".
ModelFiles layerDropModel(const ModelFiles &original, const std::vector<int64_t> &kept);

// Emulator layer index -> original layer index, for renumberLayers() on the trained adapter.
std::map<int64_t, int64_t> layerDropMap(const std::vector<int64_t> &kept);

} // namespace emloc::core
