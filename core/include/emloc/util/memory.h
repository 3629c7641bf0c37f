#pragma once

#include <cstdint>
#include <string>

namespace emloc::core {

// Memory as the operating system and the CUDA caching allocator measure it. Every peak the product
// reports (CLI summary, GUI plot, benchmarks) comes from here, so the numbers agree.
struct MemoryReading
{
    int64_t currentBytes = 0;
    int64_t peakBytes = 0;
};

// Resident set size of this process (VmRSS) and its high-water mark (VmHWM). resetPeakRss() starts a
// new high-water mark (writes /proc/self/clear_refs); it returns false where the kernel refuses.
MemoryReading processRss();
bool resetPeakRss();

// The CUDA caching allocator's allocated bytes and peak on one device; zeros without CUDA.
MemoryReading cudaAllocator(int deviceIndex);
void resetCudaPeak(int deviceIndex);

// Memory freed by tensors goes back to glibc's heaps, not to the system, and stays in RSS (fragmented,
// it can reach the size of the model for a loop over its layers). Hands it back (malloc_trim); call
// between layers of a streamed stage so the resident size follows what is live.
void releaseFreedMemory();

// Tracks the peak of one job on one device ("cpu" → RSS, "cuda:N" → allocator).
class MemoryMeter
{
public:
    explicit MemoryMeter(const std::string &device);
    // Starts a new measurement window: the peak is measured from now on.
    void reset();
    MemoryReading read() const;

private:
    int m_cudaIndex = -1; // -1: CPU
};

// "1.5 GiB", "312 MiB": for people.
std::string formatBytes(int64_t bytes);

} // namespace emloc::core
