// `emloc`: the EMLoC engine from the command line. Every command runs through the same job
// interface as the GUI (core/include/emloc/api/job.h). Built twice (cli_context.h): as the launcher, which
// parses and hands a valid command to the engine, and as the engine, which runs it.
#include "cli_context.h"

#include "emloc/api/version.h"

#include <csignal>

#ifdef EMLOC_CLI_LAUNCHER
#include "launch_engine.h"
#else
#include "emloc/api/error.h"
#include "emloc/api/process_launch.h"
#include "emloc/util/engine_job.h"
#include "emloc/util/torch_runtime.h"

#include <atomic>
#include <iostream>

namespace emloc::cli {

namespace {
std::atomic<core::Feedback *> g_activeFeedback{nullptr};

void onInterrupt(int)
{
    // Only an atomic flag is touched here: cancel() itself takes a mutex, so a second Ctrl-C exits.
    static std::atomic<int> count{0};
    if (++count > 1)
        std::_Exit(kExitCancelled);
    if (core::Feedback *feedback = g_activeFeedback.load())
        feedback->requestCancelFromSignal();
}
} // namespace

// Started by torchrun or srun as one of several processes: only `emloc run` shares the work; any other
// command would run whole in each process, all writing the same files.
void refuseSeveralProcesses()
{
    core::ProcessLaunch launch;
    try {
        launch = core::processLaunchFromEnvironment();
    } catch (const core::Error &) {
        return; // a malformed job environment concerns only `emloc run`
    }
    if (launch.distributed())
        throw core::Error("only `emloc run` runs as several processes; this one is rank " +
                          std::to_string(launch.rank) + " of " + std::to_string(launch.worldSize) + " (" +
                          launch.launcher + "): start this command as one process");
}

void printJson(const nlohmann::json &value)
{
    std::cout << value.dump(2) << std::endl;
}

void runCommand(CliContext &context, const std::function<void(core::Feedback &, CommandOutput &)> &body)
{
    TerminalFeedback feedback(context.quiet);
    g_activeFeedback = &feedback;
    std::signal(SIGINT, onInterrupt); // Ctrl-C: the job stops at its next safe point, exit code 3
    CommandOutput output;
    core::JobResult result =
        core::runJob(core::engineJob([&](core::Feedback &jobFeedback) {
                         core::configureThreads(context.threads);
                         if (!context.multiProcess)
                             refuseSeveralProcesses();
                         const auto devices = core::parseDeviceList(context.device);
                         if (devices.size() > 1 && !context.multiProcess)
                             throw core::Error("--device " + context.device +
                                               ": only `emloc run` runs on several GPUs; "
                                               "give this command one device");
                         for (const core::DeviceSpec &device : devices)
                             core::requireDevice(device);
                         body(jobFeedback, output);
                     }),
                     feedback);
    g_activeFeedback = nullptr;
    feedback.finishLine();
    switch (result.status) {
    case core::JobResult::Status::Succeeded:
        context.exitCode = kExitOk;
        if (!output.json().is_null())
            printJson(output.json());
        else
            std::fputs(output.text().c_str(), stdout);
        break;
    case core::JobResult::Status::Cancelled:
        context.exitCode = kExitCancelled;
        break;
    case core::JobResult::Status::Failed:
        context.exitCode = kExitError; // the message went through feedback.log already
        break;
    }
}

} // namespace emloc::cli
#endif

int main(int argc, char **argv)
{
    using namespace emloc;
    // Past a file-size limit (RLIMIT_FSIZE) the kernel kills the writer with SIGXFSZ before any message;
    // ignored, write() fails with EFBIG, and the atomic writers report it and remove their partial output.
    std::signal(SIGXFSZ, SIG_IGN);
    cli::CliContext context;
    context.arguments.assign(argv, argv + argc);
    CLI::App app{std::string(kProductName) +
                 " command line: build an emulator of a large model, fine-tune LoRA on it, correct the LoRA "
                 "for the original model and export it.\n\nExit codes: 0 ok, 1 error, 2 usage, 3 cancelled."};
#ifdef EMLOC_CLI_LAUNCHER
    // The versions of LibTorch and CUDA are the engine's to tell.
    app.set_version_flag("--version", [argv] {
        std::exit(cli::launchEngine(argv));
        return std::string();
    });
#else
    app.set_version_flag("--version", [] {
        auto info = core::buildInfo();
        return std::string("emloc ") + info.emlocVersion + " (LibTorch " + info.libtorchVersion + ", CUDA " +
               (info.cudaCompiled ? info.cudaVersion : std::string("not compiled")) + ")";
    });
#endif
    app.option_defaults()->always_capture_default();
    app.add_option("--device", context.device,
                   "Where to compute: cpu, cuda or cuda:N (emloc run: also several GPUs, cuda:0,1)")
        ->default_val("cpu")
        ->each([&context](const std::string &) { context.deviceGiven = true; });
    app.add_option("--threads", context.threads,
                   "CPU threads for tensor maths (0: OMP_NUM_THREADS if set, else the usable cores)")
        ->default_val(0)
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--json", context.json, "Machine-readable JSON on stdout");
    app.add_flag("-q,--quiet", context.quiet, "Print errors only");
    app.require_subcommand(1);

    cli::registerSystemCommands(app, context);
    cli::registerConvertCommands(app, context);
    cli::registerModelCommands(app, context);
    cli::registerDataCommands(app, context);
    cli::registerTrainCommands(app, context);
    cli::registerEmulatorCommands(app, context);
    cli::registerStage3Commands(app, context);
    cli::registerRefineCommands(app, context);
    cli::registerRunCommands(app, context);
    cli::registerBenchCommands(app, context);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? cli::kExitOk : cli::kExitUsage;
    }
#ifdef EMLOC_CLI_LAUNCHER
    if (context.handOff)
        return cli::launchEngine(argv);
#endif
    return context.exitCode;
}
