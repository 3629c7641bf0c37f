#include "emloc/stages/pipeline_processes.h"

#include "emloc/api/cpu_count.h"
#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/dist/collective.h"
#include "emloc/dist/local_workers.h"
#include "emloc/io/atomic_file.h"
#include "emloc/util/torch_runtime.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <signal.h>

namespace fs = std::filesystem;

namespace emloc::core {

namespace {

// The last lines of a worker's log: what it said before it ended.
std::string logTail(const std::string &path, size_t lines = 4)
{
    std::ifstream in(path);
    std::vector<std::string> kept;
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        kept.push_back(line);
        if (kept.size() > lines)
            kept.erase(kept.begin());
    }
    std::string text;
    for (const std::string &line : kept)
        text += "\n  " + line;
    return text;
}

std::string absolute(const std::string &path)
{
    return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

// Restores LibTorch's thread count when the job ends, however it ends.
struct ThreadShare
{
    int before = threadCount();
    explicit ThreadShare(int threads) { configureThreads(threads); }
    ~ThreadShare() { configureThreads(before); }
};

} // namespace

int pipelineProcesses(const PipelineConfig &config, int cpuProcesses)
{
    const std::vector<DeviceSpec> devices = parseDeviceList(config.device);
    if (devices.size() > 1)
        return static_cast<int>(devices.size());
    if (cpuProcesses > 1 && devices.front().isCuda)
        throw Error("several processes on " + devices.front().toString() +
                    ": a job runs one process per GPU; list the GPUs instead, e.g. cuda:0,1");
    return std::max(1, cpuProcesses);
}

PipelineResult runPipelineOnLocalProcesses(const PipelineConfig &config, Feedback &feedback,
                                           const LocalProcessesOptions &options)
{
    const int processes = pipelineProcesses(config, options.cpuProcesses);
    if (processes == 1)
        return runPipeline(config, feedback);
    if (options.engineProgram.empty())
        throw Error("no engine program to start the other processes of the job with");

    // The workers read the job from a file: its paths absolute, its device the whole list (each worker
    // takes its own GPU from it).
    PipelineConfig job = config;
    job.model = absolute(job.model);
    job.trainData = absolute(job.trainData);
    job.testData = absolute(job.testData);
    job.outputDir = absolute(job.outputDir);
    const fs::path folder = fs::path(job.outputDir) / "processes";
    fs::create_directories(folder);
    const std::string jobFile = (folder / "run.json").string();
    writeFileAtomically(jobFile, job.toJson().dump(2) + "\n");

    ProcessLaunch launch;
    launch.worldSize = launch.localWorldSize = processes;
    launch.masterAddress = "127.0.0.1";
    launch.masterPort = freeLoopbackPort();
    launch.launcher = "studio";
    WorkerSpawn spawn;
    spawn.program = options.engineProgram;
    spawn.arguments = {"run", jobFile, "--timeout", std::to_string(options.timeoutSeconds)};
    spawn.worldSize = processes;
    spawn.firstRank = 1;
    spawn.masterPort = launch.masterPort;
    spawn.logFolder = folder.string();
    const int threads = std::max(1, usableCpuCount() / processes);
    spawn.environment.emplace_back("OMP_NUM_THREADS", std::to_string(threads));
    feedback.log(LogLevel::Info, "Rank 0 of " + std::to_string(processes) + " processes on " +
                                     (parseDeviceList(config.device).size() > 1 ? config.device : "the CPU") +
                                     "; the others log to " + folder.string() + "/rank-N.log.");

    ThreadShare share(threads);
    LocalWorkers workers(spawn);
    // A worker's failure, for the message: which rank, how it ended, what it last said.
    auto workerFailures = [&](const std::vector<WorkerExit> &exits) {
        std::string text;
        for (const WorkerExit &exit : exits)
            if (!exit.succeeded)
                text += "\nrank " + std::to_string(exit.rank) + " (pid " + std::to_string(exit.pid) +
                        ") ended with " + exit.status + "; its log " + workers.logFile(exit.rank) + ":" +
                        logTail(workers.logFile(exit.rank));
        return text;
    };
    PipelineResult result;
    try {
        PipelineConfig rank0 = job; // the very job the others read, so that they compare equal
        rank0.device = deviceForRank(config.device, launch);
        std::unique_ptr<Collective> collective = connectCollective({launch, "auto", options.timeoutSeconds});
        result = runPipeline(rank0, feedback, collective.get());
    } catch (const CancelledError &) {
        workers.signal(SIGINT); // each stops at its next safe point, or already failed at the exchange
        workers.waitAll(options.timeoutSeconds + 30);
        throw;
    } catch (const Error &error) {
        workers.signal(SIGINT);
        throw Error(std::string(error.what()) + workerFailures(workers.waitAll(options.timeoutSeconds + 30)));
    } catch (...) {
        workers.signal(SIGINT);
        workers.waitAll(options.timeoutSeconds + 30);
        throw;
    }
    // The others end after training; they wrote nothing that rank 0's outputs depend on.
    const std::string failures = workerFailures(workers.waitAll(options.timeoutSeconds + 30));
    if (!failures.empty())
        feedback.log(LogLevel::Warning,
                     "The run is complete, but a worker process did not end cleanly:" + failures);
    return result;
}

} // namespace emloc::core
