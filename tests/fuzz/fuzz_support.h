#pragma once
// Shared by the libFuzzer targets: the readers under test take paths, so each input is written to a
// per-process scratch file first. The contract every target checks: a hostile input is refused with
// emloc::core::Error (the message the user sees); any other exception, crash, hang or sanitizer report
// is a bug.
#include "emloc/api/error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <unistd.h>

namespace emloc::fuzz {

// Writes the input to /tmp/emloc-fuzz-<pid><suffix> (the suffix selects the reader, e.g. ".jsonl").
inline std::string scratchFile(const uint8_t *data, size_t size, const std::string &suffix)
{
    const std::string path = "/tmp/emloc-fuzz-" + std::to_string(getpid()) + suffix;
    std::FILE *file = std::fopen(path.c_str(), "wb");
    if (!file || (size && std::fwrite(data, 1, size, file) != size) || std::fclose(file) != 0) {
        std::perror(path.c_str());
        std::abort();
    }
    return path;
}

// Runs `body`; an Error is the expected refusal, anything else that escapes aborts with its message.
template <typename Body> void expectOnlyErrors(Body &&body)
{
    try {
        body();
    } catch (const core::Error &) {
    } catch (const std::exception &e) {
        std::fprintf(stderr, "not an emloc::core::Error: %s\n", e.what());
        std::abort();
    }
}

} // namespace emloc::fuzz
