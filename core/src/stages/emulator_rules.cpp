// The per-module rules of an emulator build, the planner's view of a build, and emulator.json reading.
#include "emloc/stages/emulator_build.h"
#include "module_plan.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/math/activation_svd.h"

#include <cmath>
#include <filesystem>
#include <fnmatch.h>
#include <sstream>
#include <stdexcept>

namespace emloc::core {

namespace {
bool globMatches(const std::string &pattern, const std::string &text)
{
    return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

const char *kRuleForms = "PATTERN=RATIO (0 < RATIO <= 1), PATTERN=dense or PATTERN=rank:K, for example "
                         "'*.down_proj=dense', 'model.layers.0.*=0.6' or 'q_proj=rank:64'";
} // namespace

bool ModuleRule::matches(const std::string &moduleName) const
{
    if (globMatches(pattern, moduleName))
        return true;
    // "model.layers.3.mlp.down_proj" -> "mlp.down_proj" and "down_proj"; the vision tower's
    // "vision_tower.encoder.layer.3.mlp.fc1" -> "mlp.fc1" and "fc1".
    for (const std::string layers : {"model.layers.", "vision_tower.encoder.layer."}) {
        if (moduleName.rfind(layers, 0) != 0)
            continue;
        const size_t dot = moduleName.find('.', layers.size());
        if (dot != std::string::npos && globMatches(pattern, moduleName.substr(dot + 1)))
            return true;
    }
    const size_t last = moduleName.rfind('.');
    return last != std::string::npos && globMatches(pattern, moduleName.substr(last + 1));
}

std::string ModuleRule::text() const
{
    switch (kind) {
    case Kind::Dense:
        return pattern + "=dense";
    case Kind::Rank:
        return pattern + "=rank:" + std::to_string(rank);
    case Kind::Ratio:
        break;
    }
    std::ostringstream out;
    out << pattern << "=" << ratio;
    return out.str();
}

ModuleRule parseModuleRule(const std::string &text)
{
    const size_t equals = text.rfind('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
        throw Error("the module rule '" + text + "' is not understood; use " + kRuleForms);
    ModuleRule rule;
    rule.pattern = text.substr(0, equals);
    const std::string value = text.substr(equals + 1);
    if (value == "dense") {
        rule.kind = ModuleRule::Kind::Dense;
        return rule;
    }
    try {
        size_t used = 0;
        if (value.rfind("rank:", 0) == 0) {
            rule.kind = ModuleRule::Kind::Rank;
            rule.rank = std::stoll(value.substr(5), &used);
            if (used != value.size() - 5 || rule.rank < 1)
                throw std::invalid_argument("rank");
            return rule;
        }
        rule.ratio = std::stod(value, &used);
        if (used != value.size())
            throw std::invalid_argument("ratio");
    } catch (const std::logic_error &) {
        throw Error("the module rule '" + text + "' has the value '" + value +
                    "', which is not understood; use " + kRuleForms);
    }
    rankForRatio(rule.ratio, 1, 1); // Error for a ratio outside (0, 1]
    return rule;
}

ModulePlan planModule(const std::string &name, int64_t out, int64_t in, bool lastDown, double ratio,
                      const EmulatorOptions &options)
{
    ModulePlan plan{name, out, in};
    ModuleRule::Kind kind = ModuleRule::Kind::Ratio;
    int64_t rank = 0;
    plan.rule = "ratio";
    plan.ratioRule = true;
    if (lastDown && options.keepLastDownProjDense) {
        kind = ModuleRule::Kind::Dense;
        plan.rule = "last block's down_proj stays dense";
        plan.ratioRule = false;
    }
    for (const auto &rule : options.overrides) {
        if (!rule.matches(name))
            continue;
        kind = rule.kind;
        ratio = rule.ratio;
        rank = rule.rank;
        plan.rule = "override " + rule.text();
        plan.ratioRule = false;
    }
    if (kind == ModuleRule::Kind::Dense) {
        plan.dense = true;
        return plan;
    }
    if (kind == ModuleRule::Kind::Rank) {
        plan.rank = std::min({rank, out, in});
        return plan;
    }
    plan.rank = rankForRatio(ratio, out, in);
    // The planner's rule too: a factorisation as large as the layer saves nothing.
    if (plan.rank * (out + in) >= out * in) {
        plan.dense = true;
        plan.rule += " (factors would not be smaller than the layer)";
    }
    return plan;
}

void recordSpectrum(nlohmann::json &record, const torch::Tensor &energies, int64_t rank)
{
    const double total = energies.sum().item<double>();
    const double discarded = energies.slice(0, rank).sum().item<double>();
    record["rank"] = rank;
    record["whitened_error"] = std::sqrt(std::max(0.0, discarded));
    record["discarded_energy"] = discarded;
    record["total_energy"] = total;
    record["retained_energy"] = total > 0 ? 1.0 - discarded / total : 1.0;
}

const Whitening &groupWhitening(const GramAccumulator &grams, const std::string &moduleName,
                                std::map<std::string, Whitening> &cache, const LinearAlgebra &linearAlgebra,
                                double epsilon, double &clampedEigenvalues)
{
    const std::string group = grams.groupOf(moduleName);
    auto found = cache.find(group);
    if (found == cache.end()) {
        found =
            cache.emplace(group, whiteningFromGram(grams.gramFor(moduleName), linearAlgebra, epsilon)).first;
        clampedEigenvalues += double(found->second.clampedEigenvalues);
    }
    return found->second;
}

std::vector<double> energyCurveRatios()
{
    std::vector<double> ratios;
    for (int step = 1; step <= 20; ++step)
        ratios.push_back(step * 0.05);
    return ratios;
}

PlanSettings constructionPlanSettings(const EmulatorOptions &options, const CalibrationSet &calibration)
{
    PlanSettings settings;
    const auto chunks = calibrationChunks(calibration, options.chunkSize);
    settings.calibrationSamples = std::max<int64_t>(1, static_cast<int64_t>(calibration.sequences.size()));
    // The hidden states hold every chunk padded to its longest sequence.
    settings.calibrationSequenceLength = static_cast<int64_t>(
        std::ceil(double(paddedTokenCount(chunks)) / double(settings.calibrationSamples)));
    settings.calibrationChunk = options.chunkSize;
    settings.gramFloat64 = options.gramFloat64;
    settings.keepLastDownProjDense = options.keepLastDownProjDense;
    settings.cuda = options.device.rfind("cuda", 0) == 0;
    return settings;
}

nlohmann::json readEmulatorManifest(const std::string &folder)
{
    const std::string path = (std::filesystem::path(folder) / "emulator.json").string();
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
        throw Error("'" + folder +
                    "' is not an emulator folder (it has no emulator.json); build one with "
                    "emloc build-emulator");
    try {
        nlohmann::json manifest = nlohmann::json::parse(readTextFile(path));
        if (!manifest.is_object() || !manifest.contains("modules"))
            throw Error(path + " has no \"modules\" object: the file is damaged; rebuild the emulator");
        return manifest;
    } catch (const nlohmann::json::exception &e) {
        throw Error(path + " is not valid JSON (" + e.what() + "); rebuild the emulator");
    }
}

} // namespace emloc::core
