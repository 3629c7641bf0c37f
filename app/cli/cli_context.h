#pragma once
// Shared state of the `emloc` command line: global options and the terminal front end of the job
// interface. Each command file registers its subcommands through a register*Commands function; the
// same files build the launcher (bin/emloc: parsing, help, usage errors, no LibTorch) and the engine
// (emloc-engine: the commands themselves), which differ only in run_command.h.

#include "terminal_feedback.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace emloc::cli {

// Documented exit codes (README): 0 ok, 1 error, 2 usage, 3 cancelled.
enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitCancelled = 3 };

struct CliContext
{
    std::string device = "cpu";
    bool deviceGiven = false; // --device was on the command line (it then wins over a run configuration)
    int threads = 0;          // 0: hardware concurrency
    bool json = false;
    bool quiet = false;
    int exitCode = kExitOk;
    bool handOff = false; // the launcher: a command parsed, for the engine to run
};

// Prints `value` as indented JSON on stdout.
void printJson(const nlohmann::json &value);

inline double secondsSince(std::chrono::steady_clock::time_point started)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void registerSystemCommands(CLI::App &app, CliContext &context);
void registerConvertCommands(CLI::App &app, CliContext &context);
void registerModelCommands(CLI::App &app, CliContext &context);
void registerDataCommands(CLI::App &app, CliContext &context);
void registerTrainCommands(CLI::App &app, CliContext &context);
void registerEmulatorCommands(CLI::App &app, CliContext &context);
void registerStage3Commands(CLI::App &app, CliContext &context);
void registerRefineCommands(CLI::App &app, CliContext &context);
void registerRunCommands(CLI::App &app, CliContext &context);
void registerBenchCommands(CLI::App &app, CliContext &context);

} // namespace emloc::cli

// runCommand: the engine's (app/cli/engine) or the launcher's (app/cli/launcher), by include path.
#include "run_command.h"
