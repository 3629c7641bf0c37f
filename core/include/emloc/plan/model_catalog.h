#pragma once
// What fits, before any download: the planner (memory_plan.h) on the shapes of popular models, from a
// catalog of their config.json files compiled into the program (resources/catalog/), or from any
// config.json a user has. No weights are read: the plan needs only the shape.

#include "emloc/io/model_config.h"
#include "emloc/plan/memory_plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

struct CatalogModel
{
    std::string name;       // "llama-3.1-8b"
    std::string repository; // where it is downloaded from: "meta-llama/Llama-3.1-8B-Instruct"
    ModelConfig config;
};

std::vector<CatalogModel> catalogModels(); // every entry, smallest first
// One entry by name (case-insensitive); Error lists the names when there is none.
CatalogModel catalogModel(const std::string &name);

// How a model fits a memory budget: for inference, for LoRA on the whole model, and for EMLoC at the
// largest ratio whose stages fit (with refinement, which holds the original, fitting or not).
struct ModelFit
{
    int64_t parameters = 0;
    int64_t inferenceBytes = 0;
    int64_t fullLoraBytes = 0;
    bool inferenceFits = false;
    bool fullLoraFits = false;
    RatioChoice emloc; // chooseRatio's answer: fits, ratio, the plan at that ratio
    int64_t refinementBytes = 0;
    bool refinementFits = false;
    std::string caveat; // what the chosen ratio means for quality, from what was measured
};

ModelFit planFit(const ModelConfig &config, const PlanSettings &settings, int64_t budgetBytes);

// What is known of quality at a compression ratio: the paper's setting and what bench/README.md
// measured below it.
std::string ratioCaveat(double ratio);

} // namespace emloc::core
