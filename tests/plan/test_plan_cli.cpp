// `emloc plan --catalog` / `--config` as a user calls them: the table, the JSON (which agrees with the
// planner's own fit), and the errors for a missing budget, an unknown model or a missing file.
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/pipeline.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>
#include <string>

using namespace emloc::core;
using emloc::test::contains;
using emloc::test::describe;
using emloc::test::runCli;

namespace {
constexpr int64_t kGiB = int64_t(1) << 30;

} // namespace

TEST_CASE(planTheCatalogFromTheCommandLine)
{
    auto table = runCli({"plan", "--catalog", "all", "--budget-gb", "24", "--for", "cuda"});
    VERIFY2(table.exitCode == 0, describe(table));
    for (const char *text : {"What fits in 24.0 GiB on a CUDA GPU", "llama-3.1-70b", "qwen3-8b", "ratio"})
        VERIFY2(contains(table.out, text), describe(table));

    auto json = runCli({"--json", "plan", "--catalog", "all", "--budget-gb", "24", "--for", "cuda"});
    VERIFY2(json.exitCode == 0, describe(json));
    const nlohmann::json rows = emloc::test::jsonObjectOf(json.out).value("models", nlohmann::json::array());
    COMPARE(rows.size(), catalogModels().size());
    for (const auto &row : rows) {
        const std::string name = row.at("name").get<std::string>();
        PipelineConfig run; // the run's defaults, on a GPU
        run.device = "cuda";
        const ModelFit fit = planFit(catalogModel(name).config, pipelinePlanSettings(run), 24 * kGiB);
        COMPARE(row.at("inference_fits").get<bool>(), fit.inferenceFits);
        COMPARE(row.at("emloc_fits").get<bool>(), fit.emloc.fits);
    }

    auto one = runCli({"--json", "plan", "--catalog", "qwen2.5-7b", "--budget-gb", "12", "--for", "cuda"});
    VERIFY2(one.exitCode == 0, describe(one));
    VERIFY(emloc::test::jsonObjectOf(one.out).value("fits", false));

    auto noBudget = runCli({"plan", "--catalog", "all"});
    COMPARE(noBudget.exitCode, 1);
    VERIFY2(contains(noBudget.err, "--budget-gb"), describe(noBudget));
    auto unknown = runCli({"plan", "--catalog", "gpt-5"});
    COMPARE(unknown.exitCode, 1);
    VERIFY2(contains(unknown.err, "qwen3-8b"), describe(unknown));
    auto nothing = runCli({"plan"});
    COMPARE(nothing.exitCode, 2);
    VERIFY2(contains(nothing.err, "--catalog"), describe(nothing));
}

// A config.json alone plans as the catalog entry with the same shape does.
TEST_CASE(planFromAConfigFile)
{
    emloc::test::TempDir dir;
    const std::string path = dir.filePath("config.json");
    emloc::test::writeFile(path, modelConfigToJson(catalogModel("qwen3-4b").config).dump());
    auto fromFile = runCli({"--json", "plan", "--config", path, "--ratio", "0.4"});
    auto fromCatalog = runCli({"--json", "plan", "--catalog", "qwen3-4b", "--ratio", "0.4"});
    VERIFY2(fromFile.exitCode == 0, describe(fromFile));
    COMPARE(emloc::test::jsonObjectOf(fromFile.out), emloc::test::jsonObjectOf(fromCatalog.out));
    auto withData = runCli({"plan", "--config", path, "--data", "x.jsonl"});
    COMPARE(withData.exitCode, 1);
    VERIFY2(contains(withData.err, "--data"), describe(withData));
    auto missing = runCli({"plan", "--config", dir.filePath("none.json")});
    COMPARE(missing.exitCode, 1);
    VERIFY2(contains(missing.err, "none.json"), describe(missing));
}
