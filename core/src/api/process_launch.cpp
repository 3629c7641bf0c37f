#include "emloc/api/process_launch.h"

#include "emloc/api/device.h"

#include "emloc/api/error.h"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace emloc::core {

namespace {

using Lookup = std::function<const char *(const char *)>;

bool isSet(const Lookup &variable, const char *name)
{
    const char *value = variable(name);
    return value && *value;
}

int integerVariable(const Lookup &variable, const char *name, int minimum, int fallback)
{
    const char *value = variable(name);
    if (!value || !*value)
        return fallback;
    errno = 0;
    char *end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || parsed < minimum || parsed > 1 << 20)
        throw Error("the environment variable " + std::string(name) + " is \"" + value +
                    "\": it must be a whole number of at least " + std::to_string(minimum) +
                    "; fix it or unset it");
    return static_cast<int>(parsed);
}

// SLURM_NTASKS_PER_NODE ("4", or "4(x2)" / "4,2" when nodes differ): this node's share when it is the
// same on every node, else 0 (unknown).
int slurmTasksPerNode(const Lookup &variable)
{
    const char *value = variable("SLURM_NTASKS_PER_NODE");
    if (!value || !*value)
        value = variable("SLURM_TASKS_PER_NODE");
    if (!value || !*value)
        return 0;
    char *end = nullptr;
    const long tasks = std::strtol(value, &end, 10);
    if (tasks < 1 || (*end != '\0' && *end != '('))
        return 0;
    return static_cast<int>(tasks);
}

void requireRankInWorld(const ProcessLaunch &launch, const char *rankName, const char *worldName)
{
    if (launch.rank >= launch.worldSize)
        throw Error(std::string("the environment says ") + rankName + "=" + std::to_string(launch.rank) +
                    " but " + worldName + "=" + std::to_string(launch.worldSize) +
                    ": a rank must be below the world size");
}

} // namespace

ProcessLaunch processLaunchFromEnvironment(const Lookup &variable)
{
    ProcessLaunch launch;
    const bool torchrun = isSet(variable, "WORLD_SIZE") || isSet(variable, "RANK");
    const bool slurm = !torchrun && isSet(variable, "SLURM_NTASKS") && isSet(variable, "SLURM_PROCID");
    if (torchrun) {
        launch.launcher = "torchrun";
        launch.worldSize = integerVariable(variable, "WORLD_SIZE", 1, 1);
        if (launch.worldSize > 1 && !isSet(variable, "RANK"))
            throw Error("WORLD_SIZE is " + std::to_string(launch.worldSize) +
                        " but RANK is not set: launch with torchrun, srun or emloc run --nproc, which set "
                        "both");
        launch.rank = integerVariable(variable, "RANK", 0, 0);
        requireRankInWorld(launch, "RANK", "WORLD_SIZE");
        launch.localRank = integerVariable(variable, "LOCAL_RANK", 0, launch.rank);
        launch.localWorldSize = integerVariable(variable, "LOCAL_WORLD_SIZE", 1, launch.worldSize);
    } else if (slurm) {
        launch.launcher = "slurm";
        launch.worldSize = integerVariable(variable, "SLURM_NTASKS", 1, 1);
        launch.rank = integerVariable(variable, "SLURM_PROCID", 0, 0);
        requireRankInWorld(launch, "SLURM_PROCID", "SLURM_NTASKS");
        launch.localRank = integerVariable(variable, "SLURM_LOCALID", 0, 0);
        const int perNode = slurmTasksPerNode(variable);
        launch.localWorldSize = perNode > 0 ? perNode : launch.localRank + 1;
    }
    if (!launch.distributed()) {
        launch = ProcessLaunch{};
        return launch;
    }
    if (launch.localRank >= launch.localWorldSize)
        launch.localWorldSize = launch.localRank + 1;
    const char *address = variable("MASTER_ADDR");
    if (!address || !*address)
        throw Error(std::string("a job of ") + std::to_string(launch.worldSize) +
                    " processes needs MASTER_ADDR, the address of rank 0's machine" +
                    (slurm ? " (in an sbatch script: export MASTER_ADDR=$(scontrol show hostnames "
                             "\"$SLURM_JOB_NODELIST\" | head -n 1))"
                           : " (torchrun sets it)"));
    launch.masterAddress = address;
    launch.masterPort = integerVariable(variable, "MASTER_PORT", 1, 29500);
    if (launch.masterPort > 65535)
        throw Error("the environment variable MASTER_PORT is " + std::to_string(launch.masterPort) +
                    ": a TCP port is at most 65535");
    return launch;
}

std::string deviceForRank(const std::string &device, const ProcessLaunch &launch)
{
    if (launch.distributed() && device == "cuda")
        return "cuda:" + std::to_string(launch.localRank);
    if (device.find(',') == std::string::npos)
        return device;
    const std::vector<DeviceSpec> devices = parseDeviceList(device);
    if (launch.localRank >= static_cast<int>(devices.size()))
        throw Error("the device list '" + device + "' names " + std::to_string(devices.size()) +
                    " GPUs but this is local rank " + std::to_string(launch.localRank) +
                    ": start one process per listed GPU");
    return devices[static_cast<size_t>(launch.localRank)].toString();
}

} // namespace emloc::core
