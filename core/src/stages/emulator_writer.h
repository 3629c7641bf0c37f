#pragma once
// The emulator's model.safetensors, assembled from per-layer part files one tensor at a time, so that
// writing it never needs the whole model in memory.

#include "emloc/api/job.h"

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

struct AssemblyEntry
{
    std::string name;     // in the output
    std::string partPath; // the part file holding it
    std::string partName; // its name there
    int sliceDim = -1;    // >= 0: keep the first `keep` rows (0) or columns (1)
    int64_t keep = 0;
};

// Writes `path` atomically with the entries in order. Returns the parameter count written.
int64_t assembleSafetensors(const std::string &path, const std::vector<AssemblyEntry> &entries,
                            Feedback *feedback = nullptr);

} // namespace emloc::core
