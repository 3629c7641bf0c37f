#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace emloc::core {

// A file written under a temporary name beside its destination and renamed into place by commit():
// a crash, a full disk or an exception never leaves a half-written file at `path`, and an existing
// file there stays intact until the new one is complete. Not thread-safe; one writer per object.
class AtomicFile
{
public:
    // Throws Error naming the path when the folder is missing or not writable.
    explicit AtomicFile(std::string path);
    ~AtomicFile(); // removes the temporary file unless committed
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    // Throws Error (with "disk full" where that is the cause) on a short write.
    void write(const void *data, size_t size);
    void write(std::string_view text) { write(text.data(), text.size()); }
    // fsync, rename over the destination, fsync the folder.
    void commit();
    const std::string &path() const { return m_path; }

private:
    std::string m_path;
    std::string m_temporaryPath;
    std::FILE *m_file = nullptr;
    bool m_committed = false;
};

// Convenience for small files (JSON, configs).
void writeFileAtomically(const std::string &path, std::string_view content);

// Reads a whole file; Error names the path when it is missing, a directory or unreadable.
std::string readTextFile(const std::string &path);

} // namespace emloc::core
