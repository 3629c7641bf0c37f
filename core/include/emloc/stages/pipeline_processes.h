#pragma once
// A run as several data-parallel processes of this machine with this process as rank 0: the Studio's way
// to train on several GPUs (or CPU processes), keeping the job's feedback, cancellation and results in
// its own process. Ranks 1.. are the engine program (`emloc run FILE` as torchrun would start it).

#include "emloc/stages/pipeline.h"

#include <string>

namespace emloc::core {

struct LocalProcessesOptions
{
    std::string engineProgram;   // the `emloc` (or emloc-engine) program that runs ranks 1..
    int cpuProcesses = 1;        // on the CPU, how many processes; a GPU list in "device" gives one per GPU
    double timeoutSeconds = 300; // how long a rank waits for the others before it stops (CollectiveOptions)
};

// How many processes `config` runs as: one per GPU of a device list, else `cpuProcesses` on the CPU, else 1.
// Error when several processes are asked of one GPU.
int pipelineProcesses(const PipelineConfig &config, int cpuProcesses);

// runPipeline as pipelineProcesses() processes, this one rank 0: the others are started with the job
// written to <output>/processes/run.json and their output in <output>/processes/rank-R.log, and are
// reaped before it returns (a cancelled or failed job too). One process: runPipeline itself. A worker
// that fails makes the job fail with an Error naming the rank, its exit status and its log.
PipelineResult runPipelineOnLocalProcesses(const PipelineConfig &config, Feedback &feedback,
                                           const LocalProcessesOptions &options);

} // namespace emloc::core
