#include "emloc/io/atomic_file.h"

#include "emloc/api/error.h"
#include "stale_temporaries.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace emloc::core {

namespace {
std::atomic<uint64_t> g_temporaryCounter{0};

std::string folderOf(const std::string &path)
{
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

std::string fileNameOf(const std::string &path)
{
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string describeErrno(int error)
{
    if (error == ENOSPC || error == EDQUOT)
        return "the disk is full (" + std::string(std::strerror(error)) + ")";
    return std::strerror(error);
}

// Without syncing the folder, a crash right after rename() may still lose the new directory entry.
void syncFolder(const std::string &folder)
{
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    ::fsync(fd);
    ::close(fd);
}
} // namespace

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path))
{
    if (m_path.empty() || m_path.back() == '/')
        throw Error("cannot write '" + m_path + "': the path must name a file, not a folder");
    const std::string folder = folderOf(m_path);
    struct stat folderStat
    {};
    if (::stat(folder.c_str(), &folderStat) != 0 || !S_ISDIR(folderStat.st_mode))
        throw Error("cannot write '" + m_path + "': the folder '" + folder +
                    "' does not exist; create it or choose another output path");
    struct stat targetStat
    {};
    if (::stat(m_path.c_str(), &targetStat) == 0 && S_ISDIR(targetStat.st_mode))
        throw Error("cannot write '" + m_path + "': a folder of that name exists there");

    const std::string prefix = m_path.find('/') == std::string::npos ? std::string()
                               : folder == "/"                       ? folder
                                                                     : folder + "/";
    removeStaleTemporaries(folder, "." + fileNameOf(m_path) + ".tmp-");
    m_temporaryPath = prefix + "." + fileNameOf(m_path) + ".tmp-" + std::to_string(::getpid()) + "-" +
                      std::to_string(g_temporaryCounter.fetch_add(1));
    // O_EXCL: never reuse a stale temporary of another writer. 0666: the umask decides, as for any file
    // the user creates.
    const int fd = ::open(m_temporaryPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int error = errno;
        throw Error("cannot write '" + m_path + "': creating a file in '" + folder + "' failed (" +
                    describeErrno(error) + "); check that the folder is writable");
    }
    m_file = ::fdopen(fd, "wb");
    if (!m_file) {
        const int error = errno;
        ::close(fd);
        ::unlink(m_temporaryPath.c_str());
        throw Error("cannot write '" + m_path + "': " + describeErrno(error));
    }
}

AtomicFile::~AtomicFile()
{
    if (m_file)
        std::fclose(m_file);
    if (!m_committed && !m_temporaryPath.empty())
        ::unlink(m_temporaryPath.c_str());
}

void AtomicFile::write(const void *data, size_t size)
{
    if (!m_file)
        throw Error("cannot write '" + m_path + "': the file is already committed or closed");
    if (size == 0)
        return;
    if (std::fwrite(data, 1, size, m_file) != size) {
        const int error = errno;
        throw Error("writing '" + m_path + "' failed: " + describeErrno(error) +
                    "; nothing was changed at that path");
    }
}

void AtomicFile::commit()
{
    if (!m_file)
        throw Error("cannot commit '" + m_path + "': the file is already committed or closed");
    // Buffered data may only fail to reach the disk here (a full disk shows up on flush or fsync).
    const bool flushed = std::fflush(m_file) == 0 && ::fsync(::fileno(m_file)) == 0;
    const int flushError = errno;
    const bool closed = std::fclose(m_file) == 0;
    const int closeError = errno;
    m_file = nullptr;
    if (!flushed || !closed)
        throw Error("writing '" + m_path + "' failed: " + describeErrno(!flushed ? flushError : closeError) +
                    "; nothing was changed at that path");
    if (::rename(m_temporaryPath.c_str(), m_path.c_str()) != 0) {
        const int error = errno;
        throw Error("cannot replace '" + m_path + "': " + describeErrno(error) +
                    "; nothing was changed at that path");
    }
    m_committed = true;
    syncFolder(folderOf(m_path));
}

void writeFileAtomically(const std::string &path, std::string_view content)
{
    AtomicFile file(path);
    file.write(content);
    file.commit();
}

std::string readTextFile(const std::string &path)
{
    struct stat fileStat
    {};
    if (::stat(path.c_str(), &fileStat) != 0) {
        const int error = errno;
        if (error == ENOENT || error == ENOTDIR)
            throw Error("the file '" + path + "' does not exist");
        throw Error("cannot read '" + path + "': " + std::strerror(error));
    }
    if (S_ISDIR(fileStat.st_mode))
        throw Error("cannot read '" + path + "': it is a folder, a file was expected");
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (!file) {
        const int error = errno;
        throw Error("cannot read '" + path + "': " + std::strerror(error) + "; check its permissions");
    }
    std::string content;
    char buffer[1 << 16];
    size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0)
        content.append(buffer, got);
    const bool failed = std::ferror(file) != 0;
    const int error = errno;
    std::fclose(file);
    if (failed)
        throw Error("cannot read '" + path + "': " + std::strerror(error));
    return content;
}

} // namespace emloc::core
