#include "launch_engine.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace emloc::cli {

namespace {
constexpr const char *kEngineName = "emloc-engine";

std::vector<std::string> engineCandidates()
{
    if (const char *configured = std::getenv("EMLOC_ENGINE"); configured && *configured)
        return {configured};
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error)
        return {};
    const std::filesystem::path dir = self.parent_path();
    return {(dir / kEngineName).string(), (dir / ".." / "lib" / "emloc-studio" / kEngineName).string()};
}
} // namespace

int launchEngine(char **argv)
{
    const std::vector<std::string> candidates = engineCandidates();
    for (const std::string &path : candidates) {
        if (::access(path.c_str(), X_OK) != 0)
            continue;
        ::execv(path.c_str(), argv);
        std::fprintf(stderr, "error: cannot start the engine '%s': %s\n", path.c_str(), std::strerror(errno));
        return 1;
    }
    std::string tried;
    for (const std::string &path : candidates)
        tried += (tried.empty() ? "" : ", ") + path;
    std::fprintf(stderr,
                 "error: the engine program (%s) was not found (looked for: %s). Reinstall EMLoC Studio, or "
                 "set EMLOC_ENGINE to its path.\n",
                 kEngineName, tried.empty() ? "nothing: /proc/self/exe is unreadable" : tried.c_str());
    return 1;
}

} // namespace emloc::cli
