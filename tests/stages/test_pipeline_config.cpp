// The pipeline's configuration file: defaults, relative paths, and an error naming the key for every
// kind of mistake a person makes when writing one by hand.
#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/stages/pipeline.h"
#include "emloc/stages/step_time.h"

#include "unit_test.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using emloc::core::PipelineConfig;
using emloc::test::contains;
using emloc::test::startsWith;
using nlohmann::json;

namespace {
PipelineConfig parse(const json &document)
{
    return emloc::core::pipelineConfigFromJson(document, "run.json", "/projects/demo");
}

json minimal()
{
    return {{"model", "model.gguf"}, {"output", "out"}, {"data", {{"train", "train.jsonl"}}}};
}

// The Error's message for `document`, or "" when it parsed.
std::string errorOf(const json &document)
{
    try {
        parse(document);
    } catch (const emloc::core::Error &e) {
        return e.what();
    }
    return {};
}
} // namespace

TEST_CASE(defaultsAndRelativePaths)
{
    json document = minimal();
    document["data"]["test"] = "/abs/test.jsonl";
    const PipelineConfig config = parse(document);
    COMPARE(config.model, std::string("/projects/demo/model.gguf"));
    COMPARE(config.outputDir, std::string("/projects/demo/out"));
    COMPARE(config.trainData, std::string("/projects/demo/train.jsonl"));
    COMPARE(config.testData, std::string("/abs/test.jsonl"));
    COMPARE(config.emulator.ratio, 0.4); // the paper's setting
    COMPARE(config.clampLimit, 3.0);
    COMPARE(config.refine.layers, int64_t(4)); // refinement of the last 4 layers unless told not to
    VERIFY(config.evaluation.metric == emloc::core::MatchMetric::Exact);
    COMPARE(config.train.lora.rank, int64_t(8));
    COMPARE(config.train.lora.targets.size(), size_t(7));
    COMPARE(config.exports.size(), size_t(1));
    COMPARE(config.budgetBytes, int64_t(0));
}

// A PipelineConfig built in code (the Studio's) refines exactly as a file that says nothing does.
// They once disagreed (2 layers in code, off in a file), so Studio runs refined and files did not.
TEST_CASE(defaultConfigMatchesTheFileDefaults)
{
    const PipelineConfig fromFile = parse(minimal());
    const PipelineConfig inCode;
    COMPARE(inCode.refine.layers, emloc::core::pipelineRefineDefaults().layers);
    COMPARE(inCode.refine.layers, fromFile.refine.layers);
    COMPARE(inCode.refine.train.steps, fromFile.refine.train.steps);
    COMPARE(inCode.refine.train.learningRate, fromFile.refine.train.learningRate);
    COMPARE(inCode.clampLimit, fromFile.clampLimit);
}

// One schema: every setting a file leaves out takes the value of a PipelineConfig built in code (the
// Studio's), compared through the writer so that a new setting is covered without touching this test.
TEST_CASE(everyFileDefaultIsTheStructDefault)
{
    PipelineConfig inCode;
    inCode.model = "model.gguf";
    inCode.outputDir = "out";
    inCode.trainData = "train.jsonl";
    const PipelineConfig fromFile = emloc::core::pipelineConfigFromJson(minimal(), "minimal.json", "");
    const json differences = json::diff(inCode.toJson(), fromFile.toJson());
    VERIFY2(differences.empty(), differences.dump().c_str());
}

TEST_CASE(settingsAreRead)
{
    json document = minimal();
    document["emulator"] = {
        {"ratio", 0.3}, {"budget_gb", 2.5}, {"plain_svd", true}, {"overrides", {"down_proj=dense"}}};
    document["train"] = {{"steps", 7},
                         {"lr", 0.001},
                         {"schedule", "linear"},
                         {"lora", {{"rank", 4}, {"alpha", 8}, {"targets", {"q", "v"}}}}};
    document["correct"] = {{"clamp", 0}, {"refine_layers", 2}, {"refine_steps", 12}, {"refine_lr", 0.002}};
    document["evaluate"] = {{"metric", "contains"}, {"max_new_tokens", 12}};
    document["export"] = {"gguf-lora", "merged"};
    const PipelineConfig config = parse(document);
    COMPARE(config.emulator.ratio, 0.3);
    COMPARE(config.budgetBytes, int64_t(2.5 * (1 << 30)));
    VERIFY(config.emulator.plainSvd);
    COMPARE(config.emulator.overrides.size(), size_t(1));
    COMPARE(config.train.steps, int64_t(7));
    COMPARE(config.train.lora.rank, int64_t(4));
    COMPARE(config.train.lora.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
    COMPARE(config.clampLimit, 0.0);
    COMPARE(config.refine.layers, int64_t(2));
    COMPARE(config.refine.train.steps, int64_t(12));
    COMPARE(config.refine.train.learningRate, 0.002);
    VERIFY(config.evaluation.metric == emloc::core::MatchMetric::Contains);
    COMPARE(config.exports.size(), size_t(2));
    // What the run writes beside its outputs reads back to the same settings.
    const PipelineConfig again = emloc::core::pipelineConfigFromJson(config.toJson(), "copy", "");
    COMPARE(again.toJson().dump(), config.toJson().dump());
}

TEST_CASE(mistakesNameTheKey)
{
    struct Mistake
    {
        const char *name;
        const char *patch;
        const char *expected;
    };
    const std::vector<Mistake> rows = {
        {"unknown key", R"({"emulator": {"ratoi": 0.4}})", "'emulator.ratoi' is not a known setting"},
        {"wrong type", R"({"train": {"steps": "ten"}})", "'train.steps' must be a whole number"},
        {"ratio range", R"({"emulator": {"ratio": 1.5}})", "'emulator.ratio' must be between"},
        {"bad export", R"({"export": ["onnx"]})", "'export'"},
        {"bad metric", R"({"evaluate": {"metric": "bleu"}})", "'evaluate.metric' must be one of"},
        {"bad override", R"({"emulator": {"overrides": ["down_proj"]}})", "'emulator.overrides'"},
        {"no model", R"({"model": null})", "'model' is required"},
        {"section type", R"({"train": 3})", "'train' must be a JSON object"},
        {"refine steps", R"({"correct": {"refine_steps": 0}})", "'correct.refine_steps' must be between"},
        {"lora target", R"({"train": {"lora": {"targets": []}}})", "'train.lora.targets'"},
    };
    for (const Mistake &mistake : rows) {
        emloc::test::Row row(mistake.name);
        json document = minimal();
        document.merge_patch(json::parse(mistake.patch));
        if (document.contains("model") && document["model"].is_null())
            document.erase("model");
        const std::string message = errorOf(document);
        VERIFY2(startsWith(message, "run.json: "), message);
        VERIFY2(contains(message, mistake.expected), message);
    }
}

// --output: a configuration without "output" (the installed demo's) runs into a folder given on the
// command line, taken relative to the working folder, not to the configuration's.
TEST_CASE(outputOverride)
{
    json document = minimal();
    document.erase("output");
    VERIFY(contains(errorOf(document), "'output' is required"));
    const PipelineConfig config =
        emloc::core::pipelineConfigFromJson(document, "run.json", "/projects/demo", "runs/mine");
    COMPARE(config.outputDir, std::filesystem::current_path().string() + "/runs/mine");
    COMPARE(config.model, std::string("/projects/demo/model.gguf"));
    const PipelineConfig replaced =
        emloc::core::pipelineConfigFromJson(minimal(), "run.json", "/projects/demo", "/tmp/elsewhere");
    COMPARE(replaced.outputDir, std::string("/tmp/elsewhere"));
}

TEST_CASE(fileErrors)
{
    emloc::test::TempDir dir;
    const std::string path = dir.filePath("broken.json");
    std::ofstream(path) << "{\"model\": \"m\",\n \"output\": }";
    try {
        emloc::core::loadPipelineConfig(path);
        FAIL("a malformed file must be an Error");
    } catch (const emloc::core::Error &e) {
        VERIFY2(contains(e.what(), "broken.json: not valid JSON"), e.what());
    }
    try {
        emloc::core::loadPipelineConfig(dir.filePath("missing.json"));
        FAIL("a missing file must be an Error");
    } catch (const emloc::core::Error &e) {
        VERIFY2(contains(e.what(), "missing.json"), e.what());
    }
}

// The step time the Budget page shows: from the device's matrix-product rate before any run (a lower
// bound), then scaled from this folder's last run of the same model on the same kind of device; a job of
// several processes takes its share of the step.
TEST_CASE(stepTimeIsScaledFromTheLastRunOrBoundedByTheDevice)
{
    emloc::test::TempDir dir;
    emloc::core::ModelConfig model;
    model.vocabSize = 1000;
    model.hiddenSize = 64;
    model.intermediateSize = 128;
    model.numLayers = 2;
    model.numHeads = 4;
    model.numKeyValueHeads = 4;
    model.headDim = 16;
    json document = minimal();
    document["output"] = dir.filePath("run");
    document["train"] = {{"batch", 2}, {"grad_accum", 3}};
    PipelineConfig config = parse(document);
    int measured = 0;
    const auto rate = [&measured] {
        ++measured;
        return 1e9;
    };
    const auto bound = emloc::core::estimateStepTime(config, model, 0.5, 1, rate);
    COMPARE(measured, 1);
    VERIFY(!bound.fromLastRun && bound.seconds > 0 && bound.flopsPerSecond == 1e9);
    const auto two = emloc::core::estimateStepTime(config, model, 0.5, 2, rate);
    VERIFY(std::abs(two.seconds / bound.seconds - 2.0 / 3) < 1e-12); // micro-batches 2 + 1
    COMPARE(emloc::core::processStepShare(3, 4), 0.25);              // rows split

    // A finished run in the folder: 2 s per step at these very settings.
    const emloc::core::RunFolder run{config.outputDir};
    std::filesystem::create_directories(run.training());
    emloc::core::PipelineResult result;
    result.ratio = 0.5;
    emloc::test::writeFile(run.summary().string(), result.toJson().dump());
    emloc::test::writeFile(run.configuration().string(), config.toJson().dump());
    emloc::test::writeFile((run.training() / "training_summary.json").string(),
                           json{{"seconds_per_step", 2.0}, {"processes", 1}}.dump());
    const auto same = emloc::core::estimateStepTime(config, model, 0.5, 1, rate);
    VERIFY(same.fromLastRun);
    COMPARE(measured, 2); // no device measured this time
    VERIFY2(std::abs(same.seconds - 2.0) < 1e-9, std::to_string(same.seconds));
    // Twice the batch costs about twice the time (attention grows with it too, linearly at one length).
    config.train.batchSize = 4;
    const auto doubled = emloc::core::estimateStepTime(config, model, 0.5, 1, rate);
    VERIFY2(std::abs(doubled.seconds - 4.0) < 1e-9, std::to_string(doubled.seconds));
    // The last run on the CPU says nothing about a GPU.
    config.device = "cuda:0,1";
    const auto gpus = emloc::core::estimateStepTime(config, model, 0.5, 2, rate);
    VERIFY(!gpus.fromLastRun);
    COMPARE(measured, 3);
}
