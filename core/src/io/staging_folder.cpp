#include "emloc/io/staging_folder.h"

#include "emloc/api/error.h"
#include "stale_temporaries.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace emloc::core {

namespace fs = std::filesystem;

namespace {
std::atomic<uint64_t> g_stagingCounter{0};
constexpr int kMaxAttempts = 1000;
} // namespace

StagingFolder::StagingFolder(const std::string &destination, bool overwrite) : m_overwrite(overwrite)
{
    fs::path target = fs::absolute(fs::path(destination)).lexically_normal();
    if (target.filename().empty())
        target = target.parent_path();
    m_destination = target.string();
    std::error_code error;
    if (fs::exists(target, error) && !overwrite && !(fs::is_directory(target) && fs::is_empty(target, error)))
        throw Error("The output folder '" + destination +
                    "' already exists and is not empty; choose a new folder or remove it first.");
    if (fs::exists(target, error) && !fs::is_directory(target))
        throw Error("The output path '" + destination + "' is a file, not a folder; choose a folder path.");
    const fs::path parent = target.parent_path();
    if (!fs::is_directory(parent, error))
        throw Error("The parent folder of '" + destination + "' does not exist; create it first.");
    if (::access(parent.c_str(), W_OK) != 0)
        throw Error("Cannot write into '" + parent.string() + "' (" + std::strerror(errno) +
                    "); choose a writable location for '" + destination + "'.");
    // The process id in the name lets a later writer tell a killed run's leftovers from a live one's.
    const std::string name = target.filename().string();
    removeStaleTemporaries(parent.string(), name + ".partial-");
    removeStaleTemporaries(parent.string(), name + ".old-");
    // mkdir rather than mkdtemp: mkdtemp makes the folder 0700 whatever the umask, and the rename would
    // publish it so; mkdir gives 0777 & ~umask as any folder the user creates. The counter makes the name
    // unique within this process, and a leftover of an earlier process with the same id is skipped.
    const std::string stem = m_destination + ".partial-" + std::to_string(::getpid()) + "-";
    for (int attempt = 0;; ++attempt) {
        const std::string candidate = stem + std::to_string(g_stagingCounter.fetch_add(1));
        if (::mkdir(candidate.c_str(), 0777) == 0) {
            m_staging = candidate;
            break;
        }
        if (errno != EEXIST || attempt >= kMaxAttempts)
            throw Error("Cannot create a folder beside '" + destination + "': " + std::strerror(errno) +
                        ". Check that the parent folder is writable.");
    }
}

StagingFolder::~StagingFolder()
{
    if (!m_committed) {
        std::error_code ignored;
        fs::remove_all(m_staging, ignored);
    }
}

void StagingFolder::commit()
{
    std::error_code error;
    // The old folder is moved aside first and removed only once the new one is in place.
    std::string aside;
    if (fs::exists(m_destination, error)) {
        aside = m_destination + ".old-" + std::to_string(::getpid()) + "-0";
        fs::remove_all(aside, error);
        fs::rename(m_destination, aside, error);
        if (error)
            throw Error("Cannot replace '" + m_destination + "': " + error.message());
    }
    fs::rename(m_staging, m_destination, error);
    if (error) {
        if (!aside.empty()) {
            std::error_code ignored;
            fs::rename(aside, m_destination, ignored);
        }
        throw Error("Cannot move the finished folder into '" + m_destination + "': " + error.message());
    }
    m_committed = true;
    if (!aside.empty())
        fs::remove_all(aside, error);
}

} // namespace emloc::core
