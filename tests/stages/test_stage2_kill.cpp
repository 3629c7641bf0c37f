// Crash safety of `emloc train`: a training process killed with SIGKILL mid-run leaves only complete
// files (the checkpoint, metrics.jsonl, nothing half-written), and `--resume` continues from the last
// checkpoint to the same adapter as a run that was never interrupted. On the demo model (SmolLM2-135M).
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"

#include "child_process.h"
#include "training_outputs.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace emloc;
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 12;
constexpr int kCheckpointEvery = 3;

std::vector<std::string> trainArguments(const std::string &out)
{
    return {"--json",
            "train",
            test::demoGgufPath(),
            "--data",
            test::sourceDir() + "/resources/demo/bookings-train.jsonl",
            "--out",
            out,
            "--steps",
            std::to_string(kSteps),
            "--batch",
            "1",
            "--grad-accum",
            "1",
            "--max-length",
            "128",
            "--checkpoint-every",
            std::to_string(kCheckpointEvery),
            "--lora-dropout",
            "0",
            "--seed",
            "7"};
}

} // namespace

TEST_CASE(killedTrainingResumesFromItsLastCheckpoint)
{
    VERIFY2(test::fileExists(test::demoGgufPath()), "the demo model is missing: run scripts/setup.sh");
    test::TempDir dir;
    const std::string straight = dir.filePath("straight");
    const std::string killed = dir.filePath("killed");

    auto reference = test::runCli(trainArguments(straight), 600000);
    VERIFY2(reference.exitCode == 0, test::describe(reference));

    // Start the same run and SIGKILL it once metrics.jsonl shows a step past the second checkpoint.
    test::ChildProcess process(test::cliBinary(), trainArguments(killed));
    VERIFY(process.running());
    const int killAfterStep = 2 * kCheckpointEvery + 1;
    const auto started = std::chrono::steady_clock::now();
    const auto elapsedMs = [&started] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     started)
            .count();
    };
    int64_t lastStep = 0;
    while (lastStep < killAfterStep) {
        VERIFY2(elapsedMs() < 300000, "the training did not reach the step to kill it at");
        VERIFY2(process.running(), "the training ended early: " + process.standardError());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        try {
            const auto steps = test::trainingMetricSteps(fs::path(killed) / "metrics.jsonl");
            lastStep = steps.empty() ? 0 : steps.back();
        } catch (const std::exception &e) {
            FAIL(e.what()); // metrics.jsonl must be complete at every moment
        }
    }
    process.kill(SIGKILL); // SIGKILL: no handler runs, nothing is flushed
    process.wait(30000);
    VERIFY(!process.timedOut());        // it ended within 30 s
    COMPARE(process.signalled(), true); // a crash exit
    test::info(emloc::test::format("killed at step %lld of %d (checkpoints every %d steps)",
                                   static_cast<long long>(lastStep), kSteps, kCheckpointEvery));

    // What the kill left: complete files only. The final adapter is not there yet; a checkpoint is,
    // and it loads; metrics.jsonl parses line by line.
    const fs::path out = killed;
    VERIFY(!fs::exists(out / "adapter_model.safetensors"));
    VERIFY(!fs::exists(out / "training_summary.json"));
    const fs::path checkpoint = fs::exists(out / "checkpoint" / "trainer_state.json")
                                    ? out / "checkpoint"
                                    : out / "checkpoint.previous";
    const auto state = nlohmann::json::parse(std::ifstream(checkpoint / "trainer_state.json"));
    const int64_t checkpointStep = state.at("step").get<int64_t>();
    VERIFY2(checkpointStep >= 2 * kCheckpointEvery && checkpointStep % kCheckpointEvery == 0,
            test::str("checkpoint at step ", checkpointStep));
    VERIFY(!core::readPeftAdapter(checkpoint.string()).modules.empty());
    VERIFY(!core::SafetensorsFile((checkpoint / "trainer_state.safetensors").string()).names().empty());
    for (const auto &entry : fs::recursive_directory_iterator(out))
        VERIFY2(entry.path().filename().string().find(".partial") == std::string::npos,
                "a half-written folder was left: " + entry.path().string());
    VERIFY(test::trainingMetricSteps(out / "metrics.jsonl").back() >= checkpointStep);

    // Resume: it continues from that checkpoint and ends where the uninterrupted run ended.
    auto resumeArguments = trainArguments(killed);
    resumeArguments.push_back("--resume");
    auto resumed = test::runCli(resumeArguments, 600000);
    VERIFY2(resumed.exitCode == 0, test::describe(resumed));
    const auto summary = nlohmann::json::parse(resumed.out);
    COMPARE(summary.at("resumed_from_step").get<int64_t>(), checkpointStep);
    COMPARE(summary.at("steps").get<int64_t>(), int64_t(kSteps));

    std::vector<int64_t> expectedSteps;
    for (int step = 1; step <= kSteps; ++step)
        expectedSteps.push_back(step);
    COMPARE(test::trainingMetricSteps(out / "metrics.jsonl"), expectedSteps); // no step lost, none twice

    // The killed process's temporaries are gone once the resumed run has written the same files.
    for (const auto &entry : fs::recursive_directory_iterator(out)) {
        const std::string name = entry.path().filename().string();
        VERIFY2(name.find(".tmp-") == std::string::npos && name.find(".partial") == std::string::npos,
                "left over after the resume: " + entry.path().string());
    }

    const double difference =
        test::maxAdapterDifference(core::readPeftAdapter(straight), core::readPeftAdapter(out.string()));
    test::info(emloc::test::format(
        "resumed after a SIGKILL vs uninterrupted: max abs LoRA weight difference %.3g", difference));
    VERIFY2(difference < 1e-5, test::str(difference));
}
