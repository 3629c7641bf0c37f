#pragma once
// The engine's side of a command: its body runs as a job (main.cpp). The launcher has its own
// run_command.h (app/cli/launcher), which hands the parsed command line to this program instead.

#include <functional>

namespace emloc::core {
class Feedback;
}

namespace emloc::cli {

struct CliContext;
class CommandOutput;

// Runs `body` as a job with terminal feedback (progress bar or plain lines; Ctrl-C cancels), prints
// a failure to stderr and records the exit code in the context. What the body put in its output is
// printed after the job, when it succeeded: the JSON when there is one, else the text.
void runCommand(CliContext &context, const std::function<void(core::Feedback &, CommandOutput &)> &body);

} // namespace emloc::cli
