#pragma once
// `emloc run --nproc N` / `--gpus 0,1,..`: the worker processes of a job on this machine, started as
// torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
// MASTER_PORT), each this same program with the same arguments less the launch options. Torch-free:
// the launcher (bin/emloc) runs it without loading LibTorch.

#include <string>
#include <vector>

namespace emloc::cli {

struct LocalWorkers
{
    int count = 0;    // processes
    std::string gpus; // "0,1": one process per GPU (CUDA_VISIBLE_DEVICES); empty: CPU processes
    double timeoutSeconds =
        300; // the workers' own timeout: how long the launcher lets them stop by themselves
};

// The GPU list "0,1,3" checked (indices, no repeats); Error text on a bad one, else empty.
std::string checkGpuList(const std::string &gpus, int &count);

// `arguments` (argv) without the options that start the workers (--nproc, --gpus, with their values).
std::vector<std::string> workerArguments(const std::vector<std::string> &arguments);

// Starts the workers and waits for them. Ctrl-C (or SIGTERM) reaches every worker once: they stop at
// their next safe point as one process would. When a worker fails, the others stop by themselves (their
// exchange fails); any still running after their timeout are ended. Returns the exit code of the job:
// 0 when every worker succeeded, else the first failure's.
int runLocalWorkers(const LocalWorkers &workers, const std::vector<std::string> &arguments);

} // namespace emloc::cli
