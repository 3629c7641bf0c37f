#pragma once
// What an emulator build's rules (EmulatorOptions: the ratio, the last down projection, the overrides)
// make of one linear: shared by the language model's layers and the vision tower's.

#include "emloc/stages/emulator_build.h"

#include "emloc/math/activation_svd.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

namespace emloc::core {

// What the rules say one linear becomes.
struct ModulePlan
{
    std::string name;
    int64_t out = 0, in = 0;
    bool dense = false;
    int64_t rank = 0;       // when factorized
    std::string rule;       // for emulator.json
    bool ratioRule = false; // governed by the global ratio (rank allocation may change it)
};

// `ratio`: the ratio this linear falls under before the overrides (options.ratio, or the tower's);
// `lastDown`: the last block's down projection, which options.keepLastDownProjDense keeps dense.
ModulePlan planModule(const std::string &name, int64_t out, int64_t in, bool lastDown, double ratio,
                      const EmulatorOptions &options);

// The whitening of a module's input (method.md, stage 1 step 3), computed once per Gram group (q, k and v
// share one) and kept in `cache`; a first computation adds its clamped eigenvalues to `clampedEigenvalues`.
const Whitening &groupWhitening(const GramAccumulator &grams, const std::string &moduleName,
                                std::map<std::string, Whitening> &cache, const LinearAlgebra &linearAlgebra,
                                double epsilon, double &clampedEigenvalues);

// The stats emulator.json records for a factorized module at `rank` from its whitened spectrum
// (`energies`: the squared singular values, float64, descending): rank, errors, retained energy.
void recordSpectrum(nlohmann::json &record, const torch::Tensor &energies, int64_t rank);

} // namespace emloc::core
