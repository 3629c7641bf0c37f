#pragma once
// The worker processes of a job on this machine, started as torchrun starts them: RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and MASTER_PORT in each one's environment. Used by
// `emloc run --nproc/--gpus` (every rank a child) and by the Studio (rank 0 in its own process).
// Torch-free: the CLI's launcher starts workers without loading LibTorch.

#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace emloc::core {

struct WorkerSpawn
{
    std::string program;                // path of the program each worker runs
    std::vector<std::string> arguments; // its arguments (argv[1] on)
    int worldSize = 1;
    int firstRank = 0; // ranks firstRank .. worldSize-1 are started here (1: rank 0 is the caller)
    int masterPort = 0;
    std::vector<std::pair<std::string, std::string>> environment; // more variables for every worker
    // Non-empty: each worker's output goes to rank-R.log in this folder (a GUI has no terminal).
    std::string logFolder;
};

struct WorkerExit
{
    int rank = 0;
    pid_t pid = 0;
    bool succeeded = false;
    std::string status; // "exit code 1", "signal Killed"
};

// The workers form one process group of their own, so a Ctrl-C in the terminal reaches them only through
// signal(). Destroying the object ends (SIGKILL) and reaps any worker still running.
class LocalWorkers
{
public:
    // Throws Error naming the program when a worker cannot start; those already started are ended.
    explicit LocalWorkers(const WorkerSpawn &spawn);
    ~LocalWorkers();
    LocalWorkers(const LocalWorkers &) = delete;
    LocalWorkers &operator=(const LocalWorkers &) = delete;

    // A worker that has ended since the last call, if any; never blocks.
    std::optional<WorkerExit> poll();
    int running() const;
    // Sends `signal` to every worker still running.
    void signal(int signal);
    // Waits for every worker; those still running after `seconds` are killed. Their exits, by rank.
    std::vector<WorkerExit> waitAll(double seconds);
    std::string logFile(int rank) const; // "" without a log folder

private:
    struct Worker
    {
        int rank = 0;
        pid_t pid = 0;
        bool ended = false;
    };
    std::vector<Worker> m_workers;
    std::string m_logFolder;
};

// A TCP port of the loopback address that is free now (rank 0 binds it a moment later).
int freeLoopbackPort();

} // namespace emloc::core
