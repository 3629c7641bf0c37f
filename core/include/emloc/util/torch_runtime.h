#pragma once
// What the engine asks of LibTorch's runtime: a usable device, its thread count, its versions.

#include "emloc/api/device.h"

namespace emloc::core {

// Throws Error when a CUDA device is asked for and none is there.
void requireDevice(const DeviceSpec &spec);

// LibTorch's intra-op threads; n <= 0 means defaultThreadCount() (OMP_NUM_THREADS, else the usable
// cores). LibTorch's own default counts the host's cores, which oversubscribes a CPU quota.
void configureThreads(int n);
int threadCount();

BuildInfo buildInfo();

} // namespace emloc::core
