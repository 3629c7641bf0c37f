#pragma once
// How many CPU threads the tensor maths should use by default.

#include <string>

namespace emloc::core {

// The CPUs this process may run on: its affinity mask, capped by the CPU quota of its cgroup.
// Containers and CI machines often show all of the host's cores while allowing two; more threads than
// that make every parallel region wait for threads that are not running (measured: stage 1 seven times
// slower beside another job on two cores).
int usableCpuCount();

// The CPUs' worth of time the cgroup quotas allow (cgroup v2 cpu.max from the process's cgroup up to
// `root`, or v1 cpu.cfs_quota_us), rounded up; 0 when no quota is set. `procSelfCgroup` is the text of
// /proc/self/cgroup. Separate so that a test can give it a made-up tree.
int cgroupCpuLimit(const std::string &root, const std::string &procSelfCgroup);

// OMP_NUM_THREADS when it is set (the user's or the scheduler's word), else usableCpuCount().
int defaultThreadCount();

} // namespace emloc::core
