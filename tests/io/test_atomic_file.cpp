// AtomicFile: a file appears at its path only on commit, whole, and an existing one stays intact
// until then; failures leave neither a partial file nor a temporary behind.
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/staging_folder.h"

#include "unit_test.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace emloc::core;
using emloc::test::contains;
using emloc::test::TempDir;

namespace {
using Names = std::vector<std::string>;

// Sorted by name, ignoring case (the order the Qt version listed them in).
Names sortedByName(Names names)
{
    std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
            return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
        });
    });
    return names;
}

// Everything in `folder` but folders, hidden entries included.
Names entriesOf(const std::string &folder)
{
    Names names;
    for (const auto &entry : std::filesystem::directory_iterator(folder)) {
        std::error_code ignored;
        if (!entry.is_directory(ignored))
            names.push_back(entry.path().filename().string());
    }
    return sortedByName(names);
}

// The folders in `folder`, hidden ones left out.
Names foldersIn(const std::string &folder)
{
    Names names;
    for (const auto &entry : std::filesystem::directory_iterator(folder)) {
        std::error_code ignored;
        const std::string name = entry.path().filename().string();
        if (entry.is_directory(ignored) && name.front() != '.')
            names.push_back(name);
    }
    return sortedByName(names);
}

// Makes `path` and its parents; true when it is a folder afterwards, also when it already was.
bool makePath(const std::string &path)
{
    std::error_code error;
    std::filesystem::create_directories(path, error);
    return !error && std::filesystem::is_directory(path, error);
}

std::string pathIn(const TempDir &dir, const char *name)
{
    return dir.filePath(name);
}

// Calls `body`, which must throw Error, and returns its message.
template <typename Body> std::string errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return e.what();
    }
    return std::string();
}
} // namespace

TEST_CASE(commitWritesTheWholeFile)
{
    TempDir dir;
    const std::string path = pathIn(dir, "out.bin");
    {
        AtomicFile file(path);
        file.write("hello ");
        const char binary[] = {'\0', '\x01', '\xff'};
        file.write(binary, sizeof binary);
        // Before commit only the hidden temporary exists, beside the destination.
        VERIFY(!emloc::test::fileExists(path));
        const Names entries = entriesOf(dir.path());
        COMPARE(entries.size(), 1);
        VERIFY(emloc::test::startsWith(entries.front(), ".out.bin.tmp-"));
        file.commit();
    }
    COMPARE(readTextFile(path), std::string("hello \0\x01\xff", 9));
    COMPARE(entriesOf(dir.path()), Names{"out.bin"});
}

TEST_CASE(withoutCommitNothingIsLeft)
{
    TempDir dir;
    {
        AtomicFile file(pathIn(dir, "never.txt"));
        file.write("partial");
    }
    VERIFY(entriesOf(dir.path()).empty());
}

TEST_CASE(replacesAnExistingFileOnlyOnCommit)
{
    TempDir dir;
    const std::string path = pathIn(dir, "config.json");
    writeFileAtomically(path, "old");
    try {
        AtomicFile file(path);
        file.write("new but interrupted");
        throw std::runtime_error("simulated crash in the writer");
    } catch (const std::runtime_error &) {
    }
    COMPARE(readTextFile(path), std::string("old"));
    {
        AtomicFile file(path);
        file.write("new");
        COMPARE(readTextFile(path), std::string("old"));
        file.commit();
    }
    COMPARE(readTextFile(path), std::string("new"));
    COMPARE(entriesOf(dir.path()), Names{"config.json"});
}

TEST_CASE(concurrentWritersUseDistinctTemporaries)
{
    TempDir dir;
    const std::string path = pathIn(dir, "same.txt");
    AtomicFile first(path);
    AtomicFile second(path);
    first.write("first");
    second.write("second");
    COMPARE(entriesOf(dir.path()).size(), 2);
    first.commit();
    second.commit();
    COMPARE(readTextFile(path), std::string("second"));
    COMPARE(entriesOf(dir.path()), Names{"same.txt"});
}

TEST_CASE(largeContentRoundTrips)
{
    TempDir dir;
    const std::string path = pathIn(dir, "large.bin");
    std::string content(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>((i * 2654435761u) >> 13);
    writeFileAtomically(path, content);
    VERIFY(readTextFile(path) == content);
}

TEST_CASE(missingFolderIsAnError)
{
    TempDir dir;
    const std::string path = pathIn(dir, "no/such/folder/out.txt");
    const std::string message = errorOf([&] { AtomicFile file(path); });
    VERIFY2(contains(message, path), message);
    VERIFY2(contains(message, "does not exist"), message);
}

TEST_CASE(unwritableFolderIsAnError)
{
    // /proc refuses new files even for root.
    const std::string procMessage = errorOf([] { AtomicFile file("/proc/emloc-test-output.txt"); });
    VERIFY2(contains(procMessage, "/proc/emloc-test-output.txt"), procMessage);
    VERIFY2(contains(procMessage, "writable"), procMessage);

    if (::geteuid() == 0)
        return; // root writes into read-only folders; /proc covered the case above
    TempDir dir;
    const std::string readOnly = dir.filePath("read-only");
    VERIFY(std::filesystem::create_directory(readOnly));
    VERIFY(::chmod(readOnly.c_str(), 0555) == 0);
    const std::string path = readOnly + "/out.txt";
    const std::string message = errorOf([&] { writeFileAtomically(path, "x"); });
    ::chmod(readOnly.c_str(), 0755);
    VERIFY2(contains(message, path), message);
}

TEST_CASE(folderAsDestinationIsAnError)
{
    TempDir dir;
    VERIFY(std::filesystem::create_directory(dir.filePath("sub")));
    const std::string message = errorOf([&] { AtomicFile file(pathIn(dir, "sub")); });
    VERIFY2(contains(message, "folder"), message);
}

TEST_CASE(failedWriteKeepsTheOldFile)
{
    // A file-size limit makes the write fail the way a full disk does (short write, errno set).
    TempDir dir;
    const std::string path = pathIn(dir, "model.safetensors");
    writeFileAtomically(path, "previous version");
    rlimit original{};
    VERIFY(::getrlimit(RLIMIT_FSIZE, &original) == 0);
    rlimit limited = original;
    limited.rlim_cur = 64 * 1024;
    auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
    VERIFY(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    const std::string message = errorOf([&] {
        AtomicFile file(path);
        const std::string chunk(1024 * 1024, 'x');
        file.write(chunk);
        file.commit();
    });
    ::setrlimit(RLIMIT_FSIZE, &original);
    std::signal(SIGXFSZ, previousHandler);
    VERIFY2(contains(message, path), message);
    VERIFY2(contains(message, "nothing was changed"), message);
    COMPARE(readTextFile(path), std::string("previous version"));
    COMPARE(entriesOf(dir.path()), Names{"model.safetensors"});
}

// What a killed writer left (a hidden temporary, a staging folder, a folder moved aside) goes when the
// same destination is written again; what a live writer (this process) has in flight stays.
TEST_CASE(leftoversOfAKilledWriterAreRemoved)
{
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    VERIFY(child > 0);
    int status = 0;
    VERIFY(::waitpid(child, &status, 0) == child); // `child` names a process that is gone now
    const std::string dead = std::to_string(child);
    const std::string live = std::to_string(::getpid());

    TempDir dir;
    auto touch = [&](const std::string &name) { emloc::test::writeFile(dir.filePath(name), "left over"); };
    touch(".model.safetensors.tmp-" + dead + "-0");
    touch(".model.safetensors.tmp-" + live + "-7");
    touch(".other.json.tmp-" + dead + "-0");
    writeFileAtomically(pathIn(dir, "model.safetensors"), "new");
    COMPARE(entriesOf(dir.path()), (Names{".model.safetensors.tmp-" + live + "-7",
                                          ".other.json.tmp-" + dead + "-0", "model.safetensors"}));

    VERIFY(makePath(dir.filePath("adapter.partial-" + dead + "-abc123/inner")));
    VERIFY(makePath(dir.filePath("adapter.old-" + dead + "-0")));
    VERIFY(makePath(dir.filePath("adapter.partial-" + live + "-def456")));
    {
        StagingFolder staging(pathIn(dir, "adapter"), false);
        writeFileAtomically(staging.file("adapter_config.json"), "{}");
        staging.commit();
    }
    const Names folders = foldersIn(dir.path());
    COMPARE(folders, (Names{"adapter", "adapter.partial-" + live + "-def456"}));
}

// What the product writes gets the user's umask, as mkdir and touch would give: a staging folder made
// private (mkdtemp's 0700) would stay private once renamed into place.
TEST_CASE(foldersAndFilesFollowTheUmask)
{
    for (const mode_t mask : {mode_t(022), mode_t(077), mode_t(002)}) {
        TempDir dir;
        const mode_t previous = ::umask(mask);
        {
            StagingFolder staging(pathIn(dir, "adapter"), false);
            writeFileAtomically(staging.file("adapter_config.json"), "{}");
            staging.commit();
        }
        ::umask(previous);
        struct stat folder
        {};
        struct stat file
        {};
        VERIFY(::stat(pathIn(dir, "adapter").c_str(), &folder) == 0);
        VERIFY(::stat(pathIn(dir, "adapter/adapter_config.json").c_str(), &file) == 0);
        COMPARE(folder.st_mode & 07777, 0777 & ~mask);
        COMPARE(file.st_mode & 07777, 0666 & ~mask);
    }
}

TEST_CASE(readTextFileErrorsNameThePath)
{
    TempDir dir;
    const std::string missing = pathIn(dir, "missing.json");
    std::string message = errorOf([&] { readTextFile(missing); });
    VERIFY2(contains(message, missing) && contains(message, "does not exist"), message);

    message = errorOf([&] { readTextFile(dir.path()); });
    VERIFY2(contains(message, dir.path()) && contains(message, "folder"), message);

    if (::geteuid() != 0) {
        const std::string locked = pathIn(dir, "locked.json");
        writeFileAtomically(locked, "{}");
        VERIFY(::chmod(locked.c_str(), 0) == 0);
        message = errorOf([&] { readTextFile(locked); });
        VERIFY2(contains(message, locked), message);
    }
}
