// The default thread count: OMP_NUM_THREADS when set, else the CPUs the process may use (affinity mask
// and cgroup CPU quota). Too many threads on a CPU quota made stage 1 seven times slower in CI.
#include "emloc/api/cpu_count.h"

#include "unit_test.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

using namespace emloc::core;

namespace {
void writeFile(const std::string &path, const std::string &text)
{
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
    VERIFY2(!error, error.message());
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    VERIFY(file.is_open());
    file << text;
}

// Each test case starts and ends without OMP_NUM_THREADS (Qt Test's init() and cleanup()).
struct UnsetOmpNumThreads
{
    UnsetOmpNumThreads() { unsetenv("OMP_NUM_THREADS"); }
    ~UnsetOmpNumThreads() { unsetenv("OMP_NUM_THREADS"); }
};
} // namespace

TEST_CASE(usableCpusFollowTheAffinityMask)
{
    UnsetOmpNumThreads environment;
    const int all = usableCpuCount();
    VERIFY(all >= 1);
    VERIFY(all <= int(std::max(1u, std::thread::hardware_concurrency())));
    cpu_set_t saved;
    COMPARE(sched_getaffinity(0, sizeof saved, &saved), 0);
    int first = 0;
    while (!CPU_ISSET(first, &saved))
        ++first;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    COMPARE(sched_setaffinity(0, sizeof one, &one), 0);
    const int pinned = usableCpuCount();
    COMPARE(sched_setaffinity(0, sizeof saved, &saved), 0);
    COMPARE(pinned, 1);
}

TEST_CASE(ompNumThreadsIsTheUsersWord)
{
    UnsetOmpNumThreads environment;
    setenv("OMP_NUM_THREADS", "3", 1);
    COMPARE(defaultThreadCount(), 3);
    setenv("OMP_NUM_THREADS", "5,2", 1); // nested levels: the outer one is this process's
    COMPARE(defaultThreadCount(), 5);
    for (const char *unusable : {"", "0", "-2", "many", "4x"}) {
        setenv("OMP_NUM_THREADS", unusable, 1);
        COMPARE(defaultThreadCount(), usableCpuCount());
    }
    unsetenv("OMP_NUM_THREADS");
    COMPARE(defaultThreadCount(), usableCpuCount());
}

TEST_CASE(cgroupQuotasLimitTheCount)
{
    UnsetOmpNumThreads environment;
    emloc::test::TempDir root;
    VERIFY(emloc::test::fileExists(root.path()));
    const std::string r = root.path();
    COMPARE(cgroupCpuLimit(r, ""), 0); // nothing readable: no limit
    writeFile(root.filePath("cpu.max"), "max 100000\n");
    writeFile(root.filePath("ci/cpu.max"), "150000 100000\n"); // 1.5 CPUs: two threads
    writeFile(root.filePath("ci/job/cpu.max"), "max 100000\n");
    COMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 2);
    COMPARE(cgroupCpuLimit(r, "0::/\n"), 0);
    COMPARE(cgroupCpuLimit(r, "12:cpu:/other\n0::/ci\n"), 2);
    writeFile(root.filePath("ci/job/cpu.max"), "400000 400000\n"); // the tighter one wins
    COMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 1);
    writeFile(root.filePath("ci/job/cpu.max"), "garbage\n");
    COMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 2);
    // cgroup v1
    emloc::test::TempDir v1;
    writeFile(v1.filePath("cpu/cpu.cfs_quota_us"), "300000\n");
    writeFile(v1.filePath("cpu/cpu.cfs_period_us"), "100000\n");
    COMPARE(cgroupCpuLimit(v1.path(), "4:cpu,cpuacct:/\n"), 3);
    writeFile(v1.filePath("cpu/cpu.cfs_quota_us"), "-1\n");
    COMPARE(cgroupCpuLimit(v1.path(), ""), 0);
}
