#pragma once
// Reading what a training left behind, for the suites that compare two trainings (a killed and resumed
// one, one run as several processes) with an uninterrupted single-process one.

#include "emloc/io/peft_adapter.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace emloc::test {

// The "step" of every training line of metrics.jsonl; throws on a line that is not complete JSON.
inline std::vector<int64_t> trainingMetricSteps(const std::filesystem::path &file)
{
    std::vector<int64_t> steps;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_discarded())
            throw std::runtime_error("metrics.jsonl holds a line that is not JSON: " + line);
        if (parsed.value("stage", "") == "train")
            steps.push_back(parsed.value("step", int64_t(-1)));
    }
    return steps;
}

// max |a - b| over the LoRA weights of two adapters; infinite when their modules differ.
inline double maxAdapterDifference(const core::PeftAdapter &a, const core::PeftAdapter &b)
{
    if (a.modules.size() != b.modules.size() || a.modules.empty())
        return INFINITY;
    double worst = 0;
    for (const auto &module : a.modules) {
        const auto *other = b.find(module.module);
        if (!other)
            return INFINITY;
        worst = std::max({worst, (module.a - other->a).abs().max().item<double>(),
                          (module.b - other->b).abs().max().item<double>()});
    }
    return worst;
}

} // namespace emloc::test
