#pragma once
// A folder built under a temporary name beside its destination and renamed into place when complete,
// so a crash, a full disk or an error never leaves a half-written output folder (the folder-level
// counterpart of AtomicFile).

#include <string>

namespace emloc::core {

class StagingFolder
{
public:
    // Error when the destination's parent is missing or unwritable, or when the destination exists, is
    // not an empty folder and `overwrite` is false.
    StagingFolder(const std::string &destination, bool overwrite);
    ~StagingFolder(); // removes the staging folder unless committed
    StagingFolder(const StagingFolder &) = delete;
    StagingFolder &operator=(const StagingFolder &) = delete;

    const std::string &path() const { return m_staging; } // write the files here
    std::string file(const std::string &name) const { return m_staging + "/" + name; }
    const std::string &destination() const { return m_destination; }
    // Moves the staged folder into place (an existing destination is replaced only now).
    void commit();

private:
    std::string m_destination;
    std::string m_staging;
    bool m_overwrite = false;
    bool m_committed = false;
};

} // namespace emloc::core
