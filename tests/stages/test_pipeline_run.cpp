// `emloc run` end to end on a small random model with its own tokenizer: every stage runs, the summary
// holds each stage's time and peak, and a second run reuses what the first one made; changing one
// setting reruns only the stages that depend on it.
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/pipeline.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <locale>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using nlohmann::json;
using namespace emloc::test;

namespace {
// The folder the suite's runs share (the model, the configurations, the outputs), made by SUITE_SETUP.
std::unique_ptr<emloc::test::TempDir> g_dir;

std::string dirPath(const std::string &name)
{
    return g_dir->filePath(name);
}

// A file the run wrote, as an object; an empty one when it is missing or no JSON object (the checks
// that read its fields then fail, naming them).
json readJson(const std::string &path)
{
    return jsonObjectOf(fileExists(path) ? readFile(path) : std::string());
}

// stage name -> skipped, from summary.json
std::map<std::string, bool> skippedStages(const json &summary)
{
    std::map<std::string, bool> out;
    for (const auto &stage : arrayOf(member(summary, "stages")))
        out[stringOf(member(stage, "stage"))] = flagOf(member(stage, "skipped"));
    return out;
}

std::vector<std::string> concatenated(std::vector<std::string> first, const std::vector<std::string> &second)
{
    first.insert(first.end(), second.begin(), second.end());
    return first;
}

bool isFolder(const std::string &path)
{
    std::error_code ignored;
    return std::filesystem::is_directory(path, ignored);
}

void writeConfig(double clamp, const std::string &name = "run.json", const std::string &output = "out",
                 const std::function<void(nlohmann::json &)> &change = {})
{
    const std::string demo = emloc::test::sourceDir() + "/resources/demo/";
    nlohmann::json config = {
        {"model", "model"},
        {"output", output},
        {"data",
         {{"train", demo + "bookings-train.jsonl"},
          {"test", demo + "bookings-test.jsonl"},
          {"max_length", 128}}},
        {"emulator", {{"ratio", 0.5}, {"calibration_samples", 16}}},
        {"train", {{"steps", 4}, {"batch", 2}, {"grad_accum", 1}, {"lr", 0.003}, {"lora", {{"rank", 4}}}}},
        {"correct", {{"clamp", clamp}, {"refine_steps", 2}}},
        {"evaluate", {{"max_examples", 6}, {"max_new_tokens", 12}}},
        {"export", {"peft", "gguf-lora"}}};
    if (change)
        change(config);
    emloc::test::writeFile(dirPath(name), config.dump(2));
}
} // namespace

SUITE_SETUP()
{
    g_dir = std::make_unique<emloc::test::TempDir>();
    VERIFY(isFolder(g_dir->path()));
    const std::string data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
    auto made = runPythonScript("stage1_make_model.py", {dirPath("model"), data, "2", "128", "256"});
    VERIFY2(made.exitCode == 0, describe(made));
    writeConfig(3.0);
}

TEST_CASE(wholeRun)
{
    auto run = runCli({"run", dirPath("run.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    // The table a person reads at the end.
    for (const char *line : {"1 build the emulator", "2 LoRA on the emulator", "3 correct the LoRA",
                             "3+ refine the last layers", "original + LoRA, corrected + refined (EMLoC)",
                             "original + LoRA, uncorrected", "Exported peft", "Exported gguf-lora"})
        VERIFY2(contains(run.out, line), describe(run));

    const std::string out = dirPath("out");
    const json summary = readJson(out + "/summary.json");
    const json &stages = arrayOf(member(summary, "stages"));
    COMPARE(stages.size(), 6); // refinement is on by default
    for (const auto &stage : stages) {
        VERIFY2(!flagOf(member(stage, "skipped")), stringOf(member(stage, "stage")));
        VERIFY2(numberOf(member(stage, "seconds")) > 0, stringOf(member(stage, "stage")));
        VERIFY2(integerOf(member(stage, "peak_memory_bytes")) > 0, stringOf(member(stage, "stage")));
    }
    VERIFY(integerOf(member(summary, "inference_peak_memory_bytes")) > 0);
    // Beside each planned stage's measured peak, the planner's prediction for the run's settings.
    const auto config = emloc::core::loadPipelineConfig(dirPath("run.json"));
    const auto model = emloc::core::openModel(config.model).config;
    const auto plan = emloc::core::planMemory(emloc::core::plannableConfig(model),
                                              emloc::core::pipelinePlanSettings(config),
                                              numberOf(member(summary, "ratio")));
    const std::map<std::string, int64_t> planned = {
        {"emulator", plan.construction.totalBytes()},
        {"train", plan.fineTuning.totalBytes()},
        {"correct", plan.correction.totalBytes()},
        {"refine", emloc::core::pipelineRefinementBytes(config, model)},
        {"evaluate", -1},
        {"export", -1}};
    for (const auto &stage : stages) {
        const std::string name = stringOf(member(stage, "stage"));
        VERIFY2(planned.count(name) > 0, name);
        COMPARE(integerOf(member(stage, "planned_peak_memory_bytes")), planned.at(name));
    }
    VERIFY(planned.at("train") > 0 && planned.at("refine") > 0);
    VERIFY2(contains(run.out, "Planned"), describe(run));
    const json &models = arrayOf(member(member(summary, "evaluation"), "models"));
    COMPARE(models.size(), 4);
    for (const auto &model : models)
        VERIFY(std::isfinite(numberOf(member(model, "loss"))));

    // The corrected and refined adapters and the PEFT export load with the engine's own reader; the
    // export is the refined one (the model's 2 layers are all within the default 4 refined).
    const auto corrected = emloc::core::readPeftAdapter(out + "/corrected-adapter");
    COMPARE(corrected.modules.size(), size_t(2 * 7));
    const auto refined = emloc::core::readPeftAdapter(out + "/refined-adapter");
    const auto exported = emloc::core::readPeftAdapter(out + "/export/peft-adapter");
    COMPARE(exported.modules.size(), corrected.modules.size());
    VERIFY(torch::equal(exported.modules.front().b, refined.modules.front().b));
    VERIFY(!torch::equal(refined.modules.front().b, corrected.modules.front().b));
    // The summary names it, for the Studio's later exports and chats; its evaluation row and the export
    // say it was refined (the export carries both reports).
    COMPARE(stringOf(member(summary, "adapter")), std::string("refined-adapter"));
    VERIFY(flagOf(member(member(summary, "evaluation"), "corrected_refined")));
    VERIFY(emloc::test::fileExists(out + "/export/peft-adapter/refine_report.json"));
    VERIFY(emloc::test::fileExists(out + "/export/peft-adapter/correction_report.json"));
    COMPARE(emloc::core::pipelineShippedAdapter(out), out + "/refined-adapter");
    VERIFY(emloc::test::fileExists(out + "/export/adapter.gguf"));
    VERIFY(emloc::test::fileExists(out + "/train/metrics.jsonl"));
}

TEST_CASE(secondRunReusesEverything)
{
    auto run = runCli({"run", dirPath("run.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    auto skipped = skippedStages(readJson(dirPath("out/summary.json")));
    VERIFY(skipped["emulator"] && skipped["train"] && skipped["correct"] && skipped["refine"] &&
           skipped["evaluate"]);
    VERIFY2(contains(run.out, "(reused)"), describe(run));
}

TEST_CASE(changedClampRerunsOnlyStageThree)
{
    writeConfig(0.0);
    auto run = runCli({"run", dirPath("run.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    auto skipped = skippedStages(readJson(dirPath("out/summary.json")));
    VERIFY(skipped["emulator"] && skipped["train"]);
    VERIFY(!skipped["correct"] && !skipped["evaluate"]);
}

TEST_CASE(badConfigurationFailsClearly)
{
    emloc::test::writeFile(dirPath("bad.json"),
                           R"({"model": "model", "output": "out2", "data": {"train": "nowhere.jsonl"}})");
    auto run = runCli({"run", dirPath("bad.json")});
    COMPARE(run.exitCode, 1);
    VERIFY2(contains(run.err, "nowhere.jsonl") && contains(run.err, "data.train"), describe(run));
    VERIFY(!isFolder(dirPath("out2"))); // nothing written for a run that cannot start
}

// No test file: the held-out share of the training data is evaluated, and the screen says so. With
// refine_layers the refined adapter is the one evaluated and exported.
TEST_CASE(heldOutShareAndRefinedAdapter)
{
    writeConfig(3.0, "share.json", "out3", [](nlohmann::json &config) {
        config["data"].erase("test");
        config["data"]["validation_fraction"] = 0.1;
        config["correct"]["refine_layers"] = 1;
        config["correct"]["refine_steps"] = 2;
    });
    auto run = runCli({"run", dirPath("share.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    VERIFY2(contains(run.out, "held-out 10 %") && contains(run.out, "3+ refine the last layers"),
            describe(run));
    const std::string out = dirPath("out3");
    const json summary = readJson(out + "/summary.json");
    VERIFY(skippedStages(summary).count("refine") > 0);
    const json &evaluation = member(summary, "evaluation");
    VERIFY2(contains(stringOf(member(evaluation, "source")), "examples not trained on"),
            stringOf(member(evaluation, "source")));
    for (const auto &model : arrayOf(member(evaluation, "models")))
        VERIFY(model.is_object() && model.contains("stop_rate"));
    const auto refined = emloc::core::readPeftAdapter(out + "/refined-adapter");
    const auto exported = emloc::core::readPeftAdapter(out + "/export/peft-adapter");
    COMPARE(exported.modules.size(), refined.modules.size());
    VERIFY(torch::equal(exported.modules.back().b, refined.modules.back().b));

    // Neither a test file nor a held-out share: said, not silent.
    writeConfig(3.0, "none.json", "out4", [](nlohmann::json &config) {
        config["data"].erase("test");
        config["export"] = nlohmann::json::array();
    });
    run = runCli({"run", dirPath("none.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    VERIFY2(contains(run.out + run.err, "the evaluation is skipped"), describe(run));
}

// --device on the command line wins over the configuration's, --device cpu included: a configuration
// written for a GPU runs on the CPU (here reusing the CPU run's stages), and fails without it.
TEST_CASE(deviceOnTheCommandLineWins)
{
    writeConfig(0.0, "gpu.json", "out", [](nlohmann::json &config) { config["device"] = "cuda:7"; });
    const auto onGpu = runCli({"run", dirPath("gpu.json")});
    VERIFY2(onGpu.exitCode == 1 && contains(onGpu.err, "cuda:7") && !contains(onGpu.err, "Stage 'emulator'"),
            describe(onGpu));
    const auto onCpu = runCli({"--device", "cpu", "run", dirPath("gpu.json")});
    VERIFY2(onCpu.exitCode == 0, describe(onCpu));
    auto skipped = skippedStages(readJson(dirPath("out/summary.json")));
    VERIFY(skipped["emulator"] && skipped["train"] && skipped["correct"] && skipped["evaluate"]);
}

// One budget, one ratio: `emloc run`, `emloc build-emulator --budget-gb` and `emloc plan` decide it with
// the same function and the same (default) training settings. build-emulator planned stage 2 with
// its own defaults and found nothing fitting a budget that run and plan filled at ratio ~0.5.
TEST_CASE(budgetIsOneDecision)
{
    const std::string model = dirPath("model");
    const std::vector<std::string> shape{"--max-length", "128", "--calibration-samples", "16"};
    auto peakAt = [&](const char *ratio) {
        const auto plan = runCli(concatenated({"--json", "plan", model, "--ratio", ratio}, shape));
        return numberOf(member(jsonObjectOf(plan.out), "peak_bytes"));
    };
    const double low = peakAt("0.1"), high = peakAt("1.0");
    VERIFY2(low > 0 && high > low, str(low, " ", high));
    std::ostringstream budgetText; // 6 decimals, as the command line takes it
    budgetText.imbue(std::locale::classic());
    budgetText.setf(std::ios::fixed);
    budgetText.precision(6);
    budgetText << (low + high) / 2 / double(1 << 30);
    const std::string budget = budgetText.str();

    const auto plan = runCli(concatenated({"--json", "plan", model, "--budget-gb", budget}, shape));
    VERIFY2(plan.exitCode == 0, describe(plan));
    const double planned = numberOf(member(jsonObjectOf(plan.out), "ratio"));
    VERIFY2(planned > 0.1 && planned < 1.0, str(planned));

    const std::string train = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
    const auto build = runCli(concatenated({"--json", "build-emulator", model, "--data", train, "--out",
                                            dirPath("budget-emulator"), "--budget-gb", budget},
                                           shape));
    VERIFY2(build.exitCode == 0, describe(build));
    COMPARE(numberOf(member(jsonObjectOf(build.out), "ratio")), planned);

    const std::string config = dirPath("budget.json");
    emloc::test::writeFile(
        config, nlohmann::json{{"model", "model"},
                               {"output", "budget-run"},
                               {"data", {{"train", train}, {"max_length", 128}}},
                               {"emulator", {{"budget_gb", std::stod(budget)}, {"calibration_samples", 16}}},
                               {"train", {{"steps", 1}}}}
                    .dump());
    const auto run = runCli({"run", config});
    VERIFY2(run.exitCode == 0, describe(run));
    COMPARE(numberOf(member(readJson(dirPath("budget-run/summary.json")), "ratio")), planned);
}

// Refinement holds the whole original model, so its peak does not shrink with the ratio: a budget the
// EMLoC stages fit but refinement does not skips it, says so, and ships the corrected adapter.
TEST_CASE(refinementOverTheBudgetIsSkippedAndSaid)
{
    const std::string model = dirPath("model");
    const std::vector<std::string> shape{"--max-length", "128",     "--calibration-samples",
                                         "16",           "--batch", "2"};
    const auto plan = runCli(concatenated({"--json", "plan", model, "--ratio", "0.1"}, shape));
    VERIFY2(plan.exitCode == 0, describe(plan));
    const json planned = jsonObjectOf(plan.out);
    const double refinement = numberOf(member(member(planned, "refinement"), "total_bytes"));
    const double lowest = numberOf(member(planned, "peak_bytes"));
    // The test model is tiny: the two differ by its weights, under a megabyte.
    VERIFY2(refinement > lowest + (64 << 10), str(refinement, " ", lowest));
    const double budget = (refinement + lowest) / 2 / double(1 << 30);

    writeConfig(3.0, "tight.json", "tight", [&](nlohmann::json &config) {
        config["emulator"] = {{"budget_gb", budget}, {"calibration_samples", 16}};
        config["train"]["batch"] = 2;
        config["evaluate"]["max_examples"] = 2;
        config["export"] = {"peft"};
    });
    const auto run = runCli({"run", dirPath("tight.json")});
    VERIFY2(run.exitCode == 0, describe(run));
    const std::string said = run.out + run.err;
    VERIFY2(contains(said, "Refining the last 4 decoder layers needs") && contains(said, "skipped"),
            describe(run));
    const std::string out = dirPath("tight");
    VERIFY(!skippedStages(readJson(out + "/summary.json")).count("refine"));
    VERIFY(!isFolder(out + "/refined-adapter"));
    const auto corrected = emloc::core::readPeftAdapter(out + "/corrected-adapter");
    const auto exported = emloc::core::readPeftAdapter(out + "/export/peft-adapter");
    VERIFY(torch::equal(exported.modules.front().b, corrected.modules.front().b));
    COMPARE(emloc::core::pipelineShippedAdapter(out), out + "/corrected-adapter");
    // The evaluation's row is the corrected adapter, named so.
    VERIFY(!flagOf(member(member(readJson(out + "/summary.json"), "evaluation"), "corrected_refined")));
    VERIFY2(contains(run.out, "original + LoRA, corrected (EMLoC)"), describe(run));
}
