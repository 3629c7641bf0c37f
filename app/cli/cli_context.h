#pragma once
// Shared state of the `emloc` command line: global options and the terminal front end of the job
// interface. Each command file registers its subcommands through a register*Commands function; the
// same files build the launcher (bin/emloc: parsing, help, usage errors, no LibTorch) and the engine
// (emloc-engine: the commands themselves), which differ only in run_command.h.

#include "terminal_feedback.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
    bool handOff = false;               // the launcher: a command parsed, for the engine to run
    std::vector<std::string> arguments; // argv, for commands that start copies of this program
    bool multiProcess = false;          // the command shares its work when started as several processes
};

// Prints `value` as indented JSON on stdout.
void printJson(const nlohmann::json &value);

// What a command has to say: runCommand prints it once the job has ended well and its progress line is
// finished, so a report never interleaves with progress and a failed or cancelled job prints no half
// summary. Only a stream that is the command's product (generated text) is written while it runs.
class CommandOutput
{
public:
    // Appends formatted text for people.
    void printf(const char *format, ...) __attribute__((format(printf, 2, 3)))
    {
        va_list arguments;
        va_start(arguments, format);
        va_list measure;
        va_copy(measure, arguments);
        const int length = std::vsnprintf(nullptr, 0, format, measure);
        va_end(measure);
        if (length > 0) {
            const size_t start = m_text.size();
            m_text.resize(start + static_cast<size_t>(length) + 1);
            std::vsnprintf(m_text.data() + start, static_cast<size_t>(length) + 1, format, arguments);
            m_text.resize(start + static_cast<size_t>(length));
        }
        va_end(arguments);
    }
    // The machine-readable result (--json).
    void setJson(nlohmann::json value) { m_json = std::move(value); }

    const std::string &text() const { return m_text; }
    const nlohmann::json &json() const { return m_json; }

private:
    std::string m_text;
    nlohmann::json m_json;
};

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
