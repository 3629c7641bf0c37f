// What fits before any download: the catalog's shapes against the published parameter counts and the
// fit of each model to a budget (the command line's view of them: test_plan_cli).
#include "emloc/api/error.h"
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/pipeline.h"

#include "unit_test.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace emloc::core;

namespace {
constexpr int64_t kGiB = int64_t(1) << 30;
} // namespace

// Each entry's shape gives the parameter count its model card publishes (to 0.1 %): a mistyped
// width or layer count in a config file would not.
TEST_CASE(shapesGiveThePublishedParameterCounts)
{
    const std::map<std::string, double> published = {
        {"llama-3.2-1b", 1.236e9},  {"llama-3.2-3b", 3.213e9},    {"llama-3.1-8b", 8.030e9},
        {"llama-3.1-70b", 70.55e9}, {"mistral-7b-v0.3", 7.248e9}, {"qwen2.5-0.5b", 0.494e9},
        {"qwen2.5-1.5b", 1.544e9},  {"qwen2.5-3b", 3.086e9},      {"qwen2.5-7b", 7.616e9},
        {"qwen2.5-14b", 14.77e9},   {"qwen2.5-32b", 32.76e9},     {"qwen2.5-72b", 72.71e9},
        {"qwen3-0.6b", 0.596e9},    {"qwen3-1.7b", 1.721e9},      {"qwen3-4b", 4.022e9},
        {"qwen3-8b", 8.191e9},      {"qwen3-14b", 14.77e9},       {"qwen3-32b", 32.76e9},
        {"smollm2-135m", 134.5e6},  {"smollm2-360m", 361.8e6},    {"smollm2-1.7b", 1.711e9}};
    const std::vector<CatalogModel> models = catalogModels();
    COMPARE(models.size(), published.size());
    for (const CatalogModel &model : models) {
        const auto found = published.find(model.name);
        VERIFY2(found != published.end(), model.name.c_str());
        const double parameters = double(model.config.totalParameters());
        VERIFY2(std::abs(parameters / found->second - 1) < 1e-3,
                emloc::test::str(model.name, ": ", parameters, " parameters, published ", found->second));
        VERIFY(!model.repository.empty());
    }
    COMPARE(catalogModel("Qwen2.5-7B").name, std::string("qwen2.5-7b")); // names are case-blind
    try {
        catalogModel("gpt-5");
        FAIL("an unknown name was accepted");
    } catch (const Error &error) {
        const std::string message = error.what();
        VERIFY2(emloc::test::contains(message, "gpt-5") && emloc::test::contains(message, "llama-3.1-8b") &&
                    emloc::test::contains(message, "--config"),
                error.what());
    }
}

// The fit agrees with the plan, and a larger budget never fits less.
TEST_CASE(fitsFollowTheBudget)
{
    PlanSettings settings;
    settings.cuda = true;
    settings.refineLayers = 4;
    const ModelConfig llama8b = catalogModel("llama-3.1-8b").config;
    double previousRatio = 0;
    for (int64_t gib : {8, 12, 16, 24, 48, 80}) {
        const ModelFit fit = planFit(llama8b, settings, gib * kGiB);
        COMPARE(fit.inferenceFits, fit.inferenceBytes <= gib * kGiB);
        COMPARE(fit.fullLoraFits, fit.fullLoraBytes <= gib * kGiB);
        COMPARE(fit.refinementFits, fit.refinementBytes <= gib * kGiB);
        VERIFY(fit.fullLoraBytes > fit.inferenceBytes);
        if (fit.emloc.fits) {
            VERIFY(fit.emloc.plan.peakBytes() <= gib * kGiB);
            VERIFY(fit.emloc.ratio >= previousRatio);
            VERIFY(!fit.caveat.empty());
            previousRatio = fit.emloc.ratio;
        }
    }
    // 16 bits per value: an 8B model's weights alone are 16 GB, so inference does not fit 12 GiB
    // while an EMLoC emulator does: the method's point.
    const ModelFit twelve = planFit(llama8b, settings, 12 * kGiB);
    VERIFY(!twelve.inferenceFits && !twelve.fullLoraFits);
    VERIFY(twelve.emloc.fits && twelve.emloc.ratio < 1);
    // fp32 doubles the weights.
    PlanSettings fp32 = settings;
    fp32.valueBytes = 4;
    VERIFY(planFit(llama8b, fp32, 24 * kGiB).inferenceBytes >
           planFit(llama8b, settings, 24 * kGiB).inferenceBytes + 15 * kGiB);
}

TEST_CASE(quality)
{
    VERIFY(ratioCaveat(0.4).find("paper") != std::string::npos);
    VERIFY(ratioCaveat(0.35) != ratioCaveat(0.5));
    VERIFY(ratioCaveat(0.1) != ratioCaveat(0.35));
}

// `emloc plan --catalog all --budget-gb 24 --for cuda`: one row per model, as a user asks it.
// The cache of refinement's frozen layers is a quarter of the weights without a budget; with one it
// takes only what the budget leaves, so refinement fits every budget it fits without the cache.
TEST_CASE(refinementCacheStaysInTheBudget)
{
    const ModelConfig model = catalogModel("llama-3.1-8b").config;
    PipelineConfig run;
    run.device = "cuda";
    COMPARE(refinementPrefixBytes(run, model), int64_t(-1));
    PlanSettings lean = pipelinePlanSettings(run);
    lean.frozenPrefixBytes = 0;
    const int64_t without = planMemory(plannableConfig(model), lean, 1.0).refinement.totalBytes();
    const int64_t cap = frozenPrefixCapBytes(plannableConfig(model), pipelinePlanSettings(run));
    COMPARE(pipelineRefinementBytes(run, model), without + cap);
    for (int64_t headroom : {int64_t(0), cap / 3, cap, 3 * cap}) {
        run.budgetBytes = without + headroom;
        COMPARE(refinementPrefixBytes(run, model), std::min(headroom, cap));
        COMPARE(pipelineRefinementBytes(run, model), without + std::min(headroom, cap));
    }
    run.budgetBytes = without - 1; // refinement does not fit at all: nothing to keep, and it is skipped
    COMPARE(refinementPrefixBytes(run, model), int64_t(0));
    VERIFY(pipelineRefinementBytes(run, model) > run.budgetBytes);
}
