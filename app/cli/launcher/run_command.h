#pragma once
// The launcher's side of a command (bin/emloc): it parses the command line with the same definitions
// as the engine, answers --help and usage errors itself, and hands a valid command to the engine
// (launch_engine.h), so that only real work loads LibTorch. The body is never called here: as a
// template parameter it is never instantiated, and nothing of the engine is linked into the launcher.

#define EMLOC_CLI_LAUNCHER 1

namespace emloc::cli {

template <class Body> void runCommand(CliContext &context, Body &&)
{
    context.handOff = true;
}

} // namespace emloc::cli
