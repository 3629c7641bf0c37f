// `emloc run` as several processes on this machine (Gloo over the loopback address), against the same run
// as one process: the emulator and the adapter are the same to float tolerance at 2 and 3 processes; a
// killed worker makes the others stop with a message naming it, leaving only complete files; the run then
// resumes at another number of processes and ends with the uninterrupted run's adapter; ranks started with
// different configurations are refused, naming the difference; the Studio's way (this process rank 0, the
// engine the others) gives the same adapter and each rank's memory. A small random Llama with its own
// tokenizer.
#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/stages/pipeline_processes.h"

#include "child_process.h"
#include "training_outputs.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <thread>

using namespace emloc;
using namespace emloc::test;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<TempDir> g_dir;

std::string dirPath(const std::string &name)
{
    return g_dir->filePath(name);
}

// Long enough that the kill test finds the training running after its first checkpoints.
constexpr int kSteps = 40;

void writeConfig(const std::string &name, double learningRate = 0.003)
{
    const std::string demo = sourceDir() + "/resources/demo/";
    const nlohmann::json config = {
        {"model", "model"},
        {"output", "unused"},
        {"data",
         {{"train", demo + "bookings-train.jsonl"}, {"max_length", 96}, {"validation_fraction", 0.1}}},
        {"emulator", {{"ratio", 0.5}, {"calibration_samples", 12}, {"gram_float64", true}}},
        // Three micro-batches per step: 2 processes share them 2 + 1, 3 processes one each.
        {"train",
         {{"steps", kSteps},
          {"batch", 2},
          {"grad_accum", 3},
          {"lr", learningRate},
          {"eval_every", 10},
          {"checkpoint_every", 2},
          {"lora", {{"rank", 4}, {"dropout", 0.1}}}}},
        {"correct", {{"clamp", 3}, {"refine_layers", 0}}},
        {"evaluate", {{"max_examples", 2}, {"max_new_tokens", 4}}},
        {"export", nlohmann::json::array()}};
    writeFile(dirPath(name), config.dump(2));
}

std::vector<std::string> runArguments(const std::string &output, const std::vector<std::string> &extra = {})
{
    std::vector<std::string> arguments{"run", dirPath("run.json"), "--output", dirPath(output)};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return arguments;
}

// The emulator's weights as the model computes with them: low-rank factors multiplied out (their signs
// and bases are free), the rest as stored.
std::map<std::string, torch::Tensor> emulatorWeights(const std::string &output)
{
    core::SafetensorsFile file((core::RunFolder{dirPath(output)}.emulator() / "model.safetensors").string());
    std::map<std::string, torch::Tensor> weights;
    const std::string up = core::kLowRankUpSuffix;
    for (const auto &name : file.names()) {
        if (endsWith(name, core::kLowRankDownSuffix))
            continue;
        if (endsWith(name, up)) {
            const std::string module = name.substr(0, name.size() - up.size());
            weights[module] = file.tensor(name)
                                  .to(torch::kFloat64)
                                  .matmul(file.tensor(module + core::kLowRankDownSuffix).to(torch::kFloat64));
        } else {
            weights[name] = file.tensor(name).to(torch::kFloat64);
        }
    }
    return weights;
}

// max |a - b| / max |a| over all tensors of two emulators.
double emulatorDifference(const std::string &a, const std::string &b)
{
    const auto first = emulatorWeights(a), second = emulatorWeights(b);
    if (first.size() != second.size())
        return INFINITY;
    double worst = 0;
    for (const auto &[name, tensor] : first) {
        const auto other = second.find(name);
        if (other == second.end())
            return INFINITY;
        const double scale = std::max(1e-12, tensor.abs().max().item<double>());
        worst = std::max(worst, (tensor - other->second).abs().max().item<double>() / scale);
    }
    return worst;
}

double adapterDifference(const std::string &folderA, const std::string &folderB)
{
    return maxAdapterDifference(core::readPeftAdapter(folderA), core::readPeftAdapter(folderB));
}

std::string trainFolder(const std::string &output)
{
    return (core::RunFolder{dirPath(output)}.training()).string();
}

nlohmann::json readJson(const std::string &path)
{
    return nlohmann::json::parse(readFile(path), nullptr, false);
}

std::vector<int64_t> trainSteps(const std::string &output)
{
    return trainingMetricSteps(core::RunFolder{dirPath(output)}.trainingMetrics());
}

// The worker processes a launcher started, by rank (from their environment).
std::map<int, pid_t> workersOf(pid_t launcher)
{
    std::map<int, pid_t> workers;
    for (const auto &entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream fields(text.substr(close + 2));
        std::string state;
        pid_t parent = 0;
        fields >> state >> parent;
        if (parent != launcher)
            continue;
        std::ifstream environ(entry.path() / "environ");
        std::string variable;
        while (std::getline(environ, variable, '\0'))
            if (startsWith(variable, "RANK="))
                workers[std::stoi(variable.substr(5))] = static_cast<pid_t>(std::stol(name));
    }
    return workers;
}

// Waits until `process` has trained past step 3 of `output` (and written a checkpoint, when asked); fails
// the test when it ends first or takes more than 400 s.
void waitPastStep3(ChildProcess &process, const std::string &output, bool withCheckpoint)
{
    const fs::path checkpoint = fs::path(trainFolder(output)) / "checkpoint" / "trainer_state.json";
    const auto started = std::chrono::steady_clock::now();
    while (trainSteps(output).empty() || trainSteps(output).back() < 3 ||
           (withCheckpoint && !fs::exists(checkpoint))) {
        VERIFY2(std::chrono::steady_clock::now() - started < std::chrono::seconds(400),
                "the training did not get past step 3");
        VERIFY2(process.running(), "the job ended early: " + process.standardError());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

bool leftPartialFiles(const std::string &output, std::string &which)
{
    for (const auto &entry : fs::recursive_directory_iterator(dirPath(output))) {
        const std::string name = entry.path().filename().string();
        if (contains(name, ".partial") || contains(name, ".tmp-")) {
            which = entry.path().string();
            return true;
        }
    }
    return false;
}

} // namespace

SUITE_SETUP()
{
    g_dir = std::make_unique<TempDir>();
    const std::string data = sourceDir() + "/resources/demo/bookings-train.jsonl";
    auto made = runPythonScript("stage1_make_model.py", {dirPath("model"), data, "2", "128", "256"});
    VERIFY2(made.exitCode == 0, describe(made));
    writeConfig("run.json");
    auto single = runCli(runArguments("one"), 600000);
    VERIFY2(single.exitCode == 0, describe(single));
}

TEST_CASE(twoAndThreeProcessesGiveTheSingleProcessEmulatorAndAdapter)
{
    for (int processes : {2, 3}) {
        const std::string output = "n" + std::to_string(processes);
        const auto started = std::chrono::steady_clock::now();
        auto run =
            runCli(runArguments(output, {"--nproc", std::to_string(processes), "--timeout", "60"}), 600000);
        VERIFY2(run.exitCode == 0, describe(run));
        info(format("%d processes: %.1f s", processes,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
        // Rank 0 alone reports: one summary table.
        VERIFY2(contains(run.out, "EMLoC peak"), run.out);
        const double emulator = emulatorDifference("one", output);
        const double adapter = adapterDifference(trainFolder("one"), trainFolder(output));
        info(
            format("%d processes against one: emulator weights %.3g (relative), LoRA weights %.3g (absolute)",
                   processes, emulator, adapter));
        VERIFY2(emulator < 1e-5, str(emulator)); // Grams in float64, stored in float32
        VERIFY2(adapter < 2e-5, str(adapter));
        const auto one = readJson(trainFolder("one") + "/training_summary.json");
        const auto many = readJson(trainFolder(output) + "/training_summary.json");
        const double validation = many.value("final_validation_loss", -1.0);
        VERIFY2(std::abs(validation - one.value("final_validation_loss", -2.0)) < 1e-4, many.dump());
        // Each rank's peak is in the summary; the stage's is the largest.
        const auto summary = readJson(dirPath(output) + "/summary.json");
        int stagesWithRanks = 0;
        for (const auto &stage : summary.at("stages")) {
            const auto details = stage.value("details", nlohmann::json::object());
            if (!details.contains("rank_peak_memory_bytes"))
                continue;
            ++stagesWithRanks;
            COMPARE(details.at("rank_peak_memory_bytes").size(), size_t(processes));
            COMPARE(details.value("processes", 0), processes);
        }
        COMPARE(stagesWithRanks, 2); // stages 1 and 2
        const auto manifest = readJson((core::RunFolder{dirPath(output)}.emulatorReport()).string());
        COMPARE(manifest.at("calibration").value("processes", 0), processes);
    }
}

TEST_CASE(aKilledWorkerStopsTheOthersAndTheRunResumesAtAnotherSize)
{
    const std::string output = "killed";
    ChildProcess launcher(cliBinary(), runArguments(output, {"--nproc", "2", "--timeout", "20"}));
    const auto started = std::chrono::steady_clock::now();
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    // Kill rank 1 once a checkpoint exists and training goes on past it.
    const fs::path checkpoint = fs::path(trainFolder(output)) / "checkpoint" / "trainer_state.json";
    waitPastStep3(launcher, output, true);
    const auto workers = workersOf(launcher.pid());
    VERIFY2(workers.count(1) == 1, "rank 1's process was not found");
    ::kill(workers.at(1), SIGKILL);
    const auto killedAt = seconds();
    const int code = launcher.wait(120000);
    const double stoppedAfter = seconds() - killedAt;
    info(format("rank 1 killed at step %lld; the job stopped %.1f s later",
                static_cast<long long>(trainSteps(output).back()), stoppedAfter));
    VERIFY(!launcher.timedOut());
    VERIFY(code != 0);
    VERIFY2(stoppedAfter < 20 + 15, str(stoppedAfter)); // within the timeout
    const std::string error = launcher.standardError();
    VERIFY2(contains(error, "rank 1") && contains(error, "stopped or hangs"), error);
    VERIFY2(contains(error, "worker rank 1"), error);

    // Only complete files: the checkpoint loads; no half-written file.
    std::string partial;
    VERIFY2(!leftPartialFiles(output, partial), partial);
    const auto state = readJson(checkpoint.string());
    VERIFY(state.at("step").get<int64_t>() >= 2);
    VERIFY(!core::readPeftAdapter(checkpoint.parent_path().string()).modules.empty());
    VERIFY(!fs::exists(fs::path(trainFolder(output)) / "adapter_model.safetensors"));

    // Resumed at 3 processes: it continues from the checkpoint and ends with the single run's adapter.
    auto resumed = runCli(runArguments(output, {"--nproc", "3", "--timeout", "60"}), 600000);
    VERIFY2(resumed.exitCode == 0, describe(resumed));
    const auto summary = readJson(trainFolder(output) + "/training_summary.json");
    COMPARE(summary.value("resumed_from_step", int64_t(-1)), state.at("step").get<int64_t>());
    std::vector<int64_t> expected;
    for (int64_t step = 1; step <= kSteps; ++step)
        expected.push_back(step);
    COMPARE(trainSteps(output), expected);
    const double difference = adapterDifference(trainFolder("one"), trainFolder(output));
    info(format("killed at 2 processes, resumed at 3, against one process: LoRA weights %.3g", difference));
    VERIFY2(difference < 2e-5, str(difference));
}

// Ctrl-C on `emloc run` as one process: it stops after the step it is in and writes a checkpoint there.
TEST_CASE(ctrlCCancelsOneProcessAtASafePoint)
{
    const std::string output = "interrupted-one";
    ChildProcess run(cliBinary(), runArguments(output));
    waitPastStep3(run, output, false);
    run.kill(SIGINT);
    COMPARE(run.wait(60000), 3); // cancelled, not killed
    VERIFY2(contains(run.standardError(), "writing a checkpoint"), run.standardError());
    const fs::path checkpoint = fs::path(trainFolder(output)) / "checkpoint";
    COMPARE(readJson((checkpoint / "trainer_state.json").string()).at("step").get<int64_t>(),
            trainSteps(output).back()); // the last completed step
}

// Ctrl-C on `emloc run --nproc`: every worker stops, the job ends as cancelled, the checkpoint is whole.
TEST_CASE(ctrlCOnTheLauncherStopsEveryWorker)
{
    const std::string output = "interrupted";
    ChildProcess launcher(cliBinary(), runArguments(output, {"--nproc", "2", "--timeout", "20"}));
    waitPastStep3(launcher, output, false);
    const auto workers = workersOf(launcher.pid());
    COMPARE(workers.size(), size_t(2));
    launcher.kill(SIGINT);
    COMPARE(launcher.wait(60000), 3); // cancelled
    for (const auto &[rank, pid] : workers)
        VERIFY2(::kill(pid, 0) != 0, str("rank ", rank, " still runs")); // reaped by the launcher
    std::string partial;
    VERIFY2(!leftPartialFiles(output, partial), partial + "\n" + tail(launcher.standardError()));
    const fs::path checkpoint = fs::path(trainFolder(output)) / "checkpoint";
    VERIFY(readJson((checkpoint / "trainer_state.json").string()).at("step").get<int64_t>() >= 2);
    VERIFY(!core::readPeftAdapter(checkpoint.string()).modules.empty());
}

TEST_CASE(ranksWithDifferentConfigurationsAreRefused)
{
    writeConfig("other.json", 0.001);
    std::mt19937 random(static_cast<unsigned>(::getpid()));
    const std::string port = std::to_string(20000 + random() % 30000);
    auto environment = [&](int rank) {
        ProcessOptions options;
        options.environment = {{"RANK", std::to_string(rank)},
                               {"WORLD_SIZE", "2"},
                               {"MASTER_ADDR", "127.0.0.1"},
                               {"MASTER_PORT", port}};
        return options;
    };
    ChildProcess first(cliBinary(), {"run", dirPath("run.json"), "--output", dirPath("mismatch")},
                       environment(0));
    ChildProcess second(cliBinary(), {"run", dirPath("other.json"), "--output", dirPath("mismatch")},
                        environment(1));
    const int firstCode = first.wait(120000), secondCode = second.wait(120000);
    VERIFY(firstCode != 0 && secondCode != 0);
    VERIFY2(contains(first.standardError(), "train.lr: 0.003 against 0.001"), first.standardError());
    VERIFY2(!fs::exists(core::RunFolder{dirPath("mismatch")}.emulator()), "a stage ran");
}

TEST_CASE(otherCommandsRefuseToRunAsSeveralProcesses)
{
    ProcessOptions options;
    options.environment = {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}};
    const auto info = runProcess(cliBinary(), {"info", dirPath("model")}, options);
    VERIFY(info.exitCode == 1);
    VERIFY2(contains(info.err, "only `emloc run` runs as several processes; this one is rank 1 of 2"),
            info.err);
    // A malformed job environment is named before anything runs.
    options.environment = {{"RANK", "0"}, {"WORLD_SIZE", "2"}};
    const auto run = runProcess(cliBinary(), runArguments("malformed"), options);
    VERIFY(run.exitCode == 1);
    VERIFY2(contains(run.err, "needs MASTER_ADDR"), run.err);
    VERIFY(!fs::exists(dirPath("malformed")));
}

// The Studio's way: this process is rank 0 (its feedback, its cancel), the engine program the others.
TEST_CASE(localProcessesWithThisOneAsRankZeroGiveTheSingleProcessAdapter)
{
    const std::string output = "in-process";
    const core::PipelineConfig config = core::loadPipelineConfig(dirPath("run.json"), dirPath(output));
    core::LocalProcessesOptions options;
    options.engineProgram = cliBinary();
    options.cpuProcesses = 2;
    options.timeoutSeconds = 60;
    COMPARE(core::pipelineProcesses(config, options.cpuProcesses), 2);
    struct RankMemory : core::Feedback
    {
        std::vector<std::vector<int64_t>> samples, layers; // training steps, emulator layers
        void metric(const core::MetricSample &sample) override
        {
            if (sample.stage == "train")
                samples.push_back(sample.rankMemoryBytes);
            else if (sample.stage == "build")
                layers.push_back(sample.rankMemoryBytes);
        }
    } feedback;
    const core::PipelineResult result = core::runPipelineOnLocalProcesses(config, feedback, options);
    VERIFY(!result.adapterDir.empty());
    const double difference = adapterDifference(trainFolder("one"), trainFolder(output));
    info(format("rank 0 in this process and one engine process, against one process: LoRA weights %.3g",
                difference));
    VERIFY2(difference < 2e-5, str(difference));
    // Every emulator layer and training step reports both ranks' memory, live and in metrics.jsonl.
    COMPARE(feedback.samples.size(), size_t(kSteps));
    VERIFY(!feedback.layers.empty());
    for (const auto &ranks : feedback.layers)
        COMPARE(ranks.size(), size_t(2));
    for (const auto &ranks : feedback.samples) {
        COMPARE(ranks.size(), size_t(2));
        VERIFY(ranks[0] > 0 && ranks[1] > 0);
    }
    const std::string metrics = readFile(core::RunFolder{dirPath(output)}.trainingMetrics().string());
    VERIFY2(contains(metrics, "\"rank_memory_bytes\":["), metrics.substr(0, 400));
    VERIFY(fs::exists(dirPath(output) + "/processes/rank-1.log"));
    VERIFY(fs::exists(dirPath(output) + "/processes/run.json"));
}

// The Studio's Cancel on a job of several processes: rank 0 stops at its next step and writes its
// checkpoint; the other process stops too and is reaped before the job returns.
TEST_CASE(cancellingRankZeroStopsTheLocalProcesses)
{
    const std::string output = "in-process-cancelled";
    const core::PipelineConfig config = core::loadPipelineConfig(dirPath("run.json"), dirPath(output));
    struct CancelAtStep3 : core::Feedback
    {
        void metric(const core::MetricSample &sample) override
        {
            if (sample.stage == "train" && sample.step >= 3)
                cancel();
        }
    } feedback;
    core::LocalProcessesOptions options;
    options.engineProgram = cliBinary();
    options.cpuProcesses = 2;
    options.timeoutSeconds = 20;
    const auto started = std::chrono::steady_clock::now();
    VERIFY_THROWS(core::CancelledError, core::runPipelineOnLocalProcesses(config, feedback, options));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    info(format("cancelled at step 3 of %d: the job returned after %.1f s", kSteps, seconds));
    const fs::path checkpoint = fs::path(trainFolder(output)) / "checkpoint";
    COMPARE(readJson((checkpoint / "trainer_state.json").string()).at("step").get<int64_t>(), int64_t(3));
    VERIFY(!core::readPeftAdapter(checkpoint.string()).modules.empty());
    std::string partial;
    VERIFY2(!leftPartialFiles(output, partial), partial);
    // The worker said why it stopped, in its log.
    const std::string log = readFile(dirPath(output) + "/processes/rank-1.log");
    VERIFY2(contains(log, "rank 0"), log);
}

// The Error `body` throws ("" when it throws none).
template <typename Body> std::string errorOf(Body body)
{
    try {
        body();
    } catch (const core::Error &error) {
        return error.what();
    }
    return {};
}

TEST_CASE(localProcessesThatCannotRunFailNamingTheRankAndItsLog)
{
    core::PipelineConfig config = core::loadPipelineConfig(dirPath("run.json"), dirPath("no-worker"));
    core::LocalProcessesOptions options;
    options.cpuProcesses = 2;
    options.timeoutSeconds = 5;
    core::Feedback feedback;
    auto run = [&] { core::runPipelineOnLocalProcesses(config, feedback, options); };
    options.engineProgram = dirPath("missing-emloc");
    std::string error = errorOf(run);
    VERIFY2(contains(error, "cannot start the worker process '" + dirPath("missing-emloc") + "' for rank 1"),
            error);
    // A worker that ends at once: rank 0 stops at the rendezvous and says how the worker ended.
    options.engineProgram = "/bin/false";
    error = errorOf(run);
    VERIFY2(contains(error, "rank 1 (pid") && contains(error, "ended with exit code 1") &&
                contains(error, "no-worker/processes/rank-1.log"),
            error);
    VERIFY(!fs::exists(core::RunFolder{dirPath("no-worker")}.emulator()));
    // Several processes on one GPU, and a device list of something else than GPUs, are refused.
    config.device = "cuda:0";
    error = errorOf([&] { core::pipelineProcesses(config, 2); });
    VERIFY2(contains(error, "list the GPUs instead"), error);
    config.device = "cpu,cuda:1";
    error = errorOf([&] { core::pipelineProcesses(config, 1); });
    VERIFY2(contains(error, "list GPUs only"), error);
    config.device = "cuda:0,1,0";
    error = errorOf([&] { core::pipelineProcesses(config, 1); });
    VERIFY2(contains(error, "names cuda:0 twice"), error);
    config.device = "cuda:0,cuda:3";
    COMPARE(core::pipelineProcesses(config, 1), 2);
}
