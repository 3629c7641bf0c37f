#pragma once
// Starts the engine program (emloc-engine) in place of the launcher, with the same arguments.

namespace emloc::cli {

// Replaces this process with the engine (same process id, so signals and exit codes are the
// engine's). The engine is $EMLOC_ENGINE when set, else emloc-engine beside this program (build
// tree) or in ../lib/emloc-studio (install). Returns only on failure, with the exit code to use,
// after printing what is missing.
int launchEngine(char **argv);

} // namespace emloc::cli
