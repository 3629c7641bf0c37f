#pragma once
// Leftovers of a writer that was killed (SIGKILL, power cut) before it could clean up: a hidden
// temporary file of AtomicFile or a staging folder of StagingFolder, each named with its writer's
// process id. The next writer of the same destination removes those whose process is gone, so a crash
// costs disk space only until the output is written again.

#include <string>

namespace emloc::core {

// Removes the entries of `folder` named `<prefix><pid>` or `<prefix><pid>-...` whose process `pid` no longer
// exists (a live process, this one included, keeps its files). Errors are ignored: this is housekeeping.
void removeStaleTemporaries(const std::string &folder, const std::string &prefix);

} // namespace emloc::core
