// A whole vision-language run through `emloc run` (tests/reference/internvl_make_run_model.py: a
// random-weight InternVL whose language model holds 150 M parameters, so a stage's memory is the model's and
// not the process's) on the shipped image dataset: the three stages each within the memory that inference of
// the original needs, the held-out image records evaluated with their images (loss and generation, four
// models), the exported adapter loaded by peft onto transformers' model and equal to ours, and a second run
// reusing every stage. Then the run with the vision tower compressed too (emulator.vision_ratio).
#include "emloc/io/safetensors.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/vision_language_model.h"

#include "child_process.h"
#include "sanitizers.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>

using namespace emloc::test;

namespace {
std::unique_ptr<TempDir> g_dir;
std::string g_model;
int64_t g_inferencePeak = 0; // inference of the original alone, measured by the first run's test

nlohmann::json readJson(const std::string &path)
{
    std::ifstream file(path);
    return nlohmann::json::parse(file);
}

// visionRatio > 0: the emulator compresses the vision tower too.
std::string writeRunConfig(const std::string &output, double visionRatio = 0)
{
    const nlohmann::json config = {
        {"model", g_model},
        {"output", output},
        {"data",
         {{"train", testDataDir() + "/datasets/vision/shapes.jsonl"},
          {"validation_fraction", 0.25},
          {"max_length", 256}}},
        {"emulator", {{"ratio", 0.5}, {"vision_ratio", visionRatio}, {"calibration_samples", 8}}},
        {"train", {{"steps", 20}, {"batch", 2}, {"grad_accum", 1}, {"lr", 0.01}}},
        {"correct", {{"refine_layers", 1}, {"refine_steps", 10}}},
        {"evaluate", {{"max_new_tokens", 8}}},
        {"export", {"peft"}}};
    const std::string path = output + ".json";
    std::ofstream(path) << config.dump(2);
    return path;
}

double mib(int64_t bytes)
{
    return static_cast<double>(bytes) / double(1 << 20);
}
} // namespace

SUITE_SETUP()
{
    g_dir = std::make_unique<TempDir>();
    g_model = g_dir->filePath("internvl");
    const auto made = runPythonScript("internvl_make_run_model.py", {g_model}, 600000);
    VERIFY2(made.exitCode == 0, describe(made));
}

TEST_CASE(runOnImagesWithinInferenceMemory)
{
    const std::string output = g_dir->filePath("run");
    const std::string config = writeRunConfig(output);
    const auto run = runCli({"run", config}, 1200000);
    VERIFY2(run.exitCode == 0, describe(run));
    const nlohmann::json summary = readJson(output + "/summary.json");

    // Inference of the original alone, in a process of its own: the budget the method promises.
    const auto inference = runCli({"--json", "evaluate", "--model", g_model, "--data",
                                   testDataDir() + "/datasets/vision/shapes.jsonl", "--max-new-tokens", "8"},
                                  600000);
    VERIFY2(inference.exitCode == 0, describe(inference));
    const nlohmann::json original = nlohmann::json::parse(inference.out)["models"][0];
    COMPARE(original["name"].get<std::string>(), std::string("original"));
    const int64_t inferencePeak = original["peak_memory_bytes"].get<int64_t>();
    g_inferencePeak = inferencePeak;

    std::map<std::string, int64_t> peaks;
    for (const nlohmann::json &stage : summary["stages"]) {
        VERIFY2(!stage["skipped"].get<bool>(), stage.dump());
        peaks[stage["stage"].get<std::string>()] = stage["peak_memory_bytes"].get<int64_t>();
    }
    info(
        format("inference of the original %.1f MiB; emulator %.1f, train %.1f, correct %.1f, refine %.1f MiB "
               "(refine / inference %.3f)",
               mib(inferencePeak), mib(peaks["emulator"]), mib(peaks["train"]), mib(peaks["correct"]),
               mib(peaks["refine"]), double(peaks["refine"]) / double(inferencePeak)));
    for (const char *stage : {"emulator", "train", "correct", "refine", "evaluate", "export"})
        VERIFY2(peaks.count(stage) && peaks[stage] > 0, stage);
    // The method's stages, each within the memory of inference (later stages of one process carry what
    // the earlier ones left: the comparison is, if anything, against them). Sanitizers' shadow memory
    // is not the product's.
    if (kMemoryReadingsAreTheProducts)
        for (const char *stage : {"emulator", "train", "correct"})
            VERIFY2(peaks[stage] < inferencePeak,
                    str(stage, " peaks at ", mib(peaks[stage]), " MiB, inference at ", mib(inferencePeak)));

    // The held-out image records, evaluated with their images by all four models.
    const nlohmann::json &evaluation = summary["evaluation"];
    COMPARE(evaluation["examples"].get<int64_t>(), int64_t(4));
    COMPARE(int(evaluation["models"].size()), 4);
    for (const nlohmann::json &model : evaluation["models"]) {
        COMPARE(model["generated"].get<int64_t>(), int64_t(4));
        VERIFY2(model["loss"].get<double>() > 0 && model["tokens"].get<int64_t>() > 0, model.dump());
    }
    // Trained on: every model with the adapter beats the original's loss on the held-out answers.
    const double originalLoss = evaluation["models"][0]["loss"].get<double>();
    for (size_t m = 1; m < evaluation["models"].size(); ++m)
        VERIFY2(evaluation["models"][m]["loss"].get<double>() < originalLoss, evaluation["models"][m].dump());

    // peft loads the exported adapter onto transformers' InternVL model: LoRA on the language model's 24 x 7
    // projections only, and its logits on a prompt with an image are ours.
    const std::string adapter = output + "/export/peft-adapter";
    const std::string logitsPath = g_dir->filePath("peft_logits.safetensors");
    const auto peft = runPythonScript("internvl_peft_logits.py", {g_model, adapter, logitsPath}, 600000);
    VERIFY2(peft.exitCode == 0, describe(peft));
    const nlohmann::json adapted = nlohmann::json::parse(lastLine(peft.out))["lora_modules"];
    COMPARE(int(adapted.size()), 24 * 7);
    for (const nlohmann::json &name : adapted)
        VERIFY2(name.get<std::string>().find("model.language_model.layers.") != std::string::npos,
                name.dump());
    emloc::core::SafetensorsFile reference(g_model + "/reference.safetensors");
    emloc::core::VisionLanguageFiles merged = emloc::core::openVisionLanguageModel(g_model);
    emloc::core::mergeInternVLAdapterFolder(merged, adapter);
    const torch::Tensor ours = emloc::core::VisionLanguageModel(merged).forward(
        reference.tensor("input_ids"), reference.tensor("pixel_values"));
    const torch::Tensor theirs = emloc::core::SafetensorsFile(logitsPath).tensor("logits");
    const double difference = (ours - theirs).abs().max().item<double>();
    const double moved = (theirs - reference.tensor("logits")).abs().max().item<double>();
    info(format("peft against ours: max |logit diff| %.3g; the adapter moves the logits by %.3g", difference,
                moved));
    VERIFY2(difference < 1e-3, str(difference));
    VERIFY2(moved > 1e-2, str(moved));

    // The same configuration again: every stage reused, nothing retrained.
    const auto again = runCli({"run", config}, 600000);
    VERIFY2(again.exitCode == 0, describe(again));
    for (const nlohmann::json &stage : readJson(output + "/summary.json")["stages"])
        if (stage["stage"] != "export")
            VERIFY2(stage["skipped"].get<bool>(), stage.dump());
}

// The same run with the vision tower compressed too (emulator.vision_ratio, as the paper's configuration):
// the emulator holds the tower's factors, the stages stay within inference of the original, and the
// adapter trained through the compressed tower still learns the held-out answers.
TEST_CASE(runWithTheTowerCompressed)
{
    const std::string output = g_dir->filePath("run_tower");
    const auto run = runCli({"run", writeRunConfig(output, 0.4)}, 1200000);
    VERIFY2(run.exitCode == 0, describe(run));
    const nlohmann::json manifest = readJson(output + "/emulator/emulator.json");
    COMPARE(manifest["vision_tower"]["ratio"].get<double>(), 0.4);
    VERIFY(manifest["vision_tower"]["parameters"].get<int64_t>() <
           manifest["vision_tower"]["linear_parameters"].get<int64_t>());
    const nlohmann::json summary = readJson(output + "/summary.json");
    std::map<std::string, int64_t> peaks;
    for (const nlohmann::json &stage : summary["stages"])
        peaks[stage["stage"].get<std::string>()] = stage["peak_memory_bytes"].get<int64_t>();
    info(format("tower compressed: emulator %.1f, train %.1f, correct %.1f MiB; inference %.1f MiB",
                mib(peaks["emulator"]), mib(peaks["train"]), mib(peaks["correct"]), mib(g_inferencePeak)));
    if (kMemoryReadingsAreTheProducts && g_inferencePeak > 0)
        for (const char *stage : {"emulator", "train", "correct"})
            VERIFY2(peaks[stage] > 0 && peaks[stage] < g_inferencePeak,
                    str(stage, " peaks at ", mib(peaks[stage]), " MiB, inference at ", mib(g_inferencePeak)));
    const nlohmann::json &evaluation = summary["evaluation"];
    COMPARE(int(evaluation["models"].size()), 4);
    const double originalLoss = evaluation["models"][0]["loss"].get<double>();
    for (size_t m = 1; m < evaluation["models"].size(); ++m) {
        COMPARE(evaluation["models"][m]["generated"].get<int64_t>(), int64_t(4));
        VERIFY2(evaluation["models"][m]["loss"].get<double>() < originalLoss, evaluation["models"][m].dump());
    }
}
