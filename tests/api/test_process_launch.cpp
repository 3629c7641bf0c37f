// Where a process sits in a job, read from the environment as torchrun, srun and `emloc run --nproc` set
// it; malformed or incomplete environments are refused, naming the variable.
#include "emloc/api/error.h"
#include "emloc/api/process_launch.h"

#include "unit_test.h"

#include <map>
#include <string>

using namespace emloc;
using emloc::test::contains;

namespace {

core::ProcessLaunch launchFrom(const std::map<std::string, std::string> &environment)
{
    return core::processLaunchFromEnvironment([&environment](const char *name) -> const char * {
        const auto it = environment.find(name);
        return it == environment.end() ? nullptr : it->second.c_str();
    });
}

std::string errorOf(const std::map<std::string, std::string> &environment)
{
    try {
        launchFrom(environment);
    } catch (const core::Error &error) {
        return error.what();
    }
    return "no error";
}

} // namespace

TEST_CASE(noLauncherIsOneProcess)
{
    const auto launch = launchFrom({});
    COMPARE(launch.distributed(), false);
    COMPARE(launch.worldSize, 1);
    COMPARE(launch.rank, 0);
    COMPARE(launchFrom({{"WORLD_SIZE", "1"}, {"RANK", "0"}}).distributed(), false);
    COMPARE(core::deviceForRank("cuda", launch), std::string("cuda"));
}

TEST_CASE(torchrunEnvironment)
{
    const auto launch = launchFrom({{"RANK", "5"},
                                    {"WORLD_SIZE", "8"},
                                    {"LOCAL_RANK", "1"},
                                    {"LOCAL_WORLD_SIZE", "4"},
                                    {"MASTER_ADDR", "node-1"},
                                    {"MASTER_PORT", "29555"},
                                    {"SLURM_PROCID", "0"},
                                    {"SLURM_NTASKS", "2"}});
    COMPARE(launch.launcher, std::string("torchrun")); // torchrun's variables win over Slurm's
    COMPARE(launch.rank, 5);
    COMPARE(launch.worldSize, 8);
    COMPARE(launch.localRank, 1);
    COMPARE(launch.localWorldSize, 4);
    COMPARE(launch.masterAddress, std::string("node-1"));
    COMPARE(launch.masterPort, 29555);
    COMPARE(core::deviceForRank("cuda", launch), std::string("cuda:1"));
    COMPARE(core::deviceForRank("cpu", launch), std::string("cpu"));
    COMPARE(core::deviceForRank("cuda:3", launch), std::string("cuda:3")); // as the user wrote it
    // Without MASTER_PORT: torchrun's default.
    COMPARE(launchFrom({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}}).masterPort, 29500);
}

TEST_CASE(slurmEnvironment)
{
    const auto launch = launchFrom({{"SLURM_PROCID", "6"},
                                    {"SLURM_NTASKS", "8"},
                                    {"SLURM_LOCALID", "2"},
                                    {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                                    {"MASTER_ADDR", "gpu-017"}});
    COMPARE(launch.launcher, std::string("slurm"));
    COMPARE(launch.rank, 6);
    COMPARE(launch.worldSize, 8);
    COMPARE(launch.localRank, 2);
    COMPARE(launch.localWorldSize, 4);
    COMPARE(launch.masterPort, 29500);
    // A single task of an allocation is one process.
    COMPARE(launchFrom({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).distributed(), false);
}

TEST_CASE(badEnvironmentsNameTheVariable)
{
    VERIFY(contains(errorOf({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}), "RANK is \"x\""));
    VERIFY(contains(errorOf({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}),
                    "RANK=2 but WORLD_SIZE=2"));
    VERIFY(contains(errorOf({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}), "RANK is not set"));
    VERIFY(contains(errorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), "needs MASTER_ADDR"));
    VERIFY(contains(errorOf({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}}), "scontrol show hostnames"));
    VERIFY(contains(
        errorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}),
        "MASTER_PORT is 70000"));
    VERIFY(contains(errorOf({{"RANK", "0"}, {"WORLD_SIZE", "-3"}}), "WORLD_SIZE is \"-3\""));
}
