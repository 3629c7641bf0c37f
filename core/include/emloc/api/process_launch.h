#pragma once
// Where this process sits in a multi-process job, as PyTorch jobs are launched: torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), Slurm's (SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE) or `emloc run --nproc/--gpus`, which sets
// torchrun's. Torch-free: the CLI's launcher and the Studio read it without LibTorch.

#include <functional>
#include <string>

namespace emloc::core {

struct ProcessLaunch
{
    int rank = 0;
    int worldSize = 1;
    int localRank = 0; // on this machine: the GPU index this rank uses ("cuda" means cuda:localRank)
    int localWorldSize = 1;
    std::string masterAddress; // the rendezvous (rank 0's TCP store)
    int masterPort = 29500;
    std::string launcher; // "torchrun", "slurm" or "" (one process)

    bool distributed() const { return worldSize > 1; }
};

// Reads the environment through `variable` (getenv by default, a map in tests). torchrun's variables
// win over Slurm's. One process when neither is set, or when they say a world of one. Error names the
// variable that is malformed, out of range or missing beside the others, and what to set.
ProcessLaunch processLaunchFromEnvironment(const std::function<const char *(const char *)> &variable =
                                               [](const char *name) {
                                                   return static_cast<const char *>(std::getenv(name));
                                               });

// "cuda" as this rank's GPU (cuda:localRank) in a multi-process job; every other device as given.
std::string deviceForRank(const std::string &device, const ProcessLaunch &launch);

} // namespace emloc::core
