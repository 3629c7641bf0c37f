#include "emloc/api/cpu_count.h"
#include "emloc/api/parse_number.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

namespace emloc::core {

namespace {

// The cgroup v2 path in /proc/self/cgroup's text ("0::/a/b"); "/" when there is none.
std::string cgroupV2Path(const std::string &procSelfCgroup)
{
    std::istringstream in(procSelfCgroup);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) == 0 && line.size() > 3)
            return line.substr(3);
    }
    return "/";
}

// CPUs' worth of time a quota allows, rounded up; 0 when there is none.
int quotaCpus(int64_t quota, int64_t period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    return static_cast<int>(std::min<int64_t>((quota + period - 1) / period, 1 << 20));
}

int cgroupV2Cpus(const std::string &directory)
{
    std::ifstream in(directory + "/cpu.max");
    std::string quota, period;
    if (!(in >> quota >> period) || quota == "max")
        return 0;
    const auto q = parseInt64(quota), p = parseInt64(period);
    return q && p ? quotaCpus(*q, *p) : 0;
}

int cgroupV1Cpus(const std::string &root)
{
    std::ifstream quotaFile(root + "/cpu/cpu.cfs_quota_us"), periodFile(root + "/cpu/cpu.cfs_period_us");
    int64_t quota = 0, period = 0;
    if (!(quotaFile >> quota) || !(periodFile >> period))
        return 0;
    return quotaCpus(quota, period);
}

int tighter(int a, int b)
{
    return a == 0 ? b : (b == 0 ? a : std::min(a, b));
}

std::string fileText(const char *path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

int cgroupCpuLimit(const std::string &root, const std::string &procSelfCgroup)
{
    // A quota anywhere on the way from this process's cgroup up to the root limits it.
    int tightest = cgroupV1Cpus(root);
    std::string path = cgroupV2Path(procSelfCgroup);
    for (;;) {
        tightest = tighter(tightest, cgroupV2Cpus(root + (path == "/" ? std::string() : path)));
        if (path == "/" || path.empty())
            return tightest;
        const auto slash = path.find_last_of('/');
        path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
}

int usableCpuCount()
{
    int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = std::max(1, CPU_COUNT(&set));
    const int quota = cgroupCpuLimit("/sys/fs/cgroup", fileText("/proc/self/cgroup"));
    return quota > 0 ? std::min(cpus, quota) : cpus;
}

int defaultThreadCount()
{
    if (const char *text = std::getenv("OMP_NUM_THREADS")) {
        // "4" or a nested list "4,2": the outer level is this process's share.
        const std::string outer = std::string(text).substr(0, std::string(text).find(','));
        const auto n = parseInt64(outer);
        if (n && *n > 0)
            return static_cast<int>(std::min<int64_t>(*n, 4096));
    }
    return usableCpuCount();
}

} // namespace emloc::core
