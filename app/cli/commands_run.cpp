// `emloc run CONFIG.json`: the whole EMLoC job (emulator, LoRA on it, correction, evaluation, exports)
// from one configuration file, ending with the summary table people compare runs by.
#include "cli_context.h"
#include "evaluation_table.h"
#include "local_workers.h"

#include "emloc/api/cpu_count.h"
#include "emloc/api/error.h"
#include "emloc/api/process_launch.h"
#include "emloc/dist/collective.h"
#include "emloc/stages/pipeline_processes.h"

#include "emloc/stages/pipeline.h"
#include "emloc/util/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace emloc::cli {

namespace {

const char *kExampleConfig = R"({
  "model": "models/SmolLM2-135M-Instruct.gguf",
  "output": "runs/my-run",
  "device": "cpu",
  "data": {"train": "data/train.jsonl", "test": "data/test.jsonl", "max_length": 256},
  "emulator": {"ratio": 0.4, "calibration_samples": 64},
  "train": {"epochs": 2, "batch": 4, "grad_accum": 2, "lr": 0.0005,
            "lora": {"rank": 8, "alpha": 16, "dropout": 0.05}},
  "correct": {"clamp": 3},
  "evaluate": {"metric": "exact", "max_new_tokens": 48},
  "export": ["peft", "gguf-lora"]
}
)";

std::string stageTitle(core::Stage stage)
{
    switch (stage) {
    case core::Stage::Emulator:
        return "1 build the emulator";
    case core::Stage::Train:
        return "2 LoRA on the emulator";
    case core::Stage::Correct:
        return "3 correct the LoRA";
    case core::Stage::Refine:
        return "3+ refine the last layers";
    case core::Stage::Evaluate:
        return "evaluate (4 models)";
    default:
        return std::string(core::stageKey(stage));
    }
}

std::string peakText(int64_t bytes)
{
    return bytes >= 0 ? core::formatBytes(bytes) : "-";
}

void printSummary(CommandOutput &output, const core::PipelineResult &result)
{
    output.printf("\n%-26s %10s %12s %12s  %s\n", "Stage", "Time", "Peak memory", "Planned", "Output");
    for (const auto &stage : result.stages)
        output.printf("%-26s %9.1fs %12s %12s  %s%s\n", stageTitle(stage.stage).c_str(), stage.seconds,
                      peakText(stage.peakMemoryBytes).c_str(), peakText(stage.plannedPeakBytes).c_str(),
                      stage.output.c_str(), stage.skipped ? "  (reused)" : "");
    int64_t emlocPeak = -1;
    for (const auto &stage : result.stages)
        if (core::methodStage(stage.stage) > 0)
            emlocPeak = std::max(emlocPeak, stage.peakMemoryBytes);
    output.printf("Emulator ratio %.2f. EMLoC peak (stages 1-3) %s", result.ratio,
                  peakText(emlocPeak).c_str());
    if (result.inferencePeakBytes > 0)
        output.printf(" against %s for inference of the original model (%.2fx)",
                      peakText(result.inferencePeakBytes).c_str(),
                      double(emlocPeak) / double(result.inferencePeakBytes));
    output.printf("\n");
    if (!result.evaluated)
        return;
    printEvaluationTable(output, result.evaluation, false);
    for (const auto &e : result.exports)
        output.printf("Exported %s: %s (%s)\n", e.format.c_str(), e.path.c_str(),
                      core::formatBytes(static_cast<int64_t>(e.bytes)).c_str());
}

} // namespace

void registerRunCommands(CLI::App &app, CliContext &context)
{
    struct RunArgs
    {
        std::string config;
        std::string output;
        bool example = false;
        int nproc = 0;
        std::string gpus;
        std::string backend = "auto";
        double timeoutSeconds = 300;
    };
    auto args = std::make_shared<RunArgs>();
    auto *run = app.add_subcommand(
        "run", "Run the whole EMLoC job from a configuration file: build the emulator, fine-tune LoRA on it, "
               "correct the LoRA, evaluate on held-out data and export. Stages whose outputs already match "
               "the configuration are reused; a stopped training resumes from its checkpoint.");
    auto *config = run->add_option("CONFIG", args->config, "The run's JSON configuration (see --example)");
    run->add_flag("--example", args->example, "Print an example configuration and exit")->excludes(config);
    run->add_option("--output", args->output,
                    "Write the run into this folder instead of the configuration's \"output\" (relative to "
                    "the current folder)");
    run->add_flag("--json", context.json, "Machine-readable JSON summary on stdout");
    auto *nproc = run->add_option("--nproc", args->nproc,
                                  "Run as N CPU processes on this machine (data-parallel; torchrun and srun "
                                  "start the processes themselves and need neither this nor --gpus)")
                      ->check(CLI::Range(1, 1024));
    run->add_option("--gpus", args->gpus, "Run as one process per GPU of this machine, e.g. 0,1,2,3")
        ->excludes(nproc);
    run->add_option("--backend", args->backend,
                    "How the processes exchange tensors: auto or gloo (nccl is not built in yet)")
        ->check(CLI::IsMember({"auto", "gloo", "nccl"}));
    run->add_option("--timeout", args->timeoutSeconds,
                    "Seconds a process waits for the others at an exchange before it stops, naming them")
        ->check(CLI::PositiveNumber);
    run->callback([&context, args] {
        if (args->example) {
            std::fputs(kExampleConfig, stdout);
            return;
        }
        if (args->config.empty())
            throw CLI::RequiredError("CONFIG (or --example)");
        if (args->nproc > 0 || !args->gpus.empty()) {
            LocalWorkers workers;
            workers.count = args->nproc;
            workers.gpus = args->gpus;
            workers.timeoutSeconds = args->timeoutSeconds;
            if (!args->gpus.empty())
                if (const std::string problem = checkGpuList(args->gpus, workers.count); !problem.empty())
                    throw CLI::ValidationError(problem);
            context.exitCode = runLocalWorkers(workers, context.arguments);
            return;
        }
        // A worker of a job (torchrun, srun, --nproc): rank 0 reports, the others say only what goes wrong.
        core::ProcessLaunch launch;
        try {
            launch = core::processLaunchFromEnvironment();
        } catch (const core::Error &error) {
            std::fprintf(stderr, "emloc: %s\n", error.what());
            context.exitCode = kExitError;
            return;
        }
        context.multiProcess = true;
        if (launch.rank > 0)
            context.quiet = true;
        // The processes of one machine share its cores, unless the user or the scheduler said otherwise.
        if (launch.distributed() && context.threads == 0 && !std::getenv("OMP_NUM_THREADS"))
            context.threads = std::max(1, core::usableCpuCount() / launch.localWorldSize);
        runCommand(context, [&context, args, launch](core::Feedback &feedback, CommandOutput &output) {
            core::PipelineConfig config = core::loadPipelineConfig(args->config, args->output);
            // Set by `emloc run --nproc/--gpus` for its workers: CPU processes, or one GPU each.
            const char *workerDevice = launch.distributed() ? std::getenv("EMLOC_WORKER_DEVICE") : nullptr;
            if (context.deviceGiven)
                config.device = context.device; // --device on the command line wins, cpu included
            else if (workerDevice)
                config.device = workerDevice;
            config.device = core::deviceForRank(config.device, launch);
            std::unique_ptr<core::Collective> collective;
            if (launch.distributed()) {
                const std::string launcher = workerDevice ? "emloc run --nproc/--gpus" : launch.launcher;
                if (launch.rank == 0)
                    feedback.log(core::LogLevel::Info, "Rank 0 of " + std::to_string(launch.worldSize) +
                                                           " processes (" + launcher +
                                                           " launch, rendezvous " + launch.masterAddress +
                                                           ":" + std::to_string(launch.masterPort) + ").");
                collective = core::connectCollective({launch, args->backend, args->timeoutSeconds});
            }
            // One process here with a device list ("cuda:0,1"): this process is rank 0 and starts the
            // others, as the Studio does.
            const bool startsProcesses = !launch.distributed() && core::pipelineProcesses(config, 1) > 1;
            const core::PipelineResult result =
                startsProcesses ? core::runPipelineOnLocalProcesses(
                                      config, feedback, {"/proc/self/exe", 1, args->timeoutSeconds})
                                : core::runPipeline(config, feedback, collective.get());
            if (launch.rank > 0)
                return;
            if (context.json)
                output.setJson(result.toJson());
            else if (!context.quiet)
                printSummary(output, result);
        });
    });
}

} // namespace emloc::cli
