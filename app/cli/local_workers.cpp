#include "local_workers.h"

#include "cli_context.h"

#include "emloc/dist/local_workers.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace emloc::cli {

namespace {

volatile sig_atomic_t g_signal = 0;

void onStopSignal(int signal)
{
    g_signal = signal;
}

} // namespace

std::string checkGpuList(const std::string &gpus, int &count)
{
    std::set<long> seen;
    std::stringstream list(gpus);
    std::string item;
    while (std::getline(list, item, ',')) {
        char *end = nullptr;
        const long index = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || index < 0)
            return "--gpus \"" + gpus + "\": give GPU indices separated by commas, e.g. 0,1";
        if (!seen.insert(index).second)
            return "--gpus \"" + gpus + "\" names GPU " + item + " twice";
    }
    count = static_cast<int>(seen.size());
    return count > 0 ? std::string() : "--gpus is empty: give GPU indices, e.g. 0,1";
}

std::vector<std::string> workerArguments(const std::vector<std::string> &arguments)
{
    std::vector<std::string> kept;
    for (size_t i = 0; i < arguments.size(); ++i) {
        const std::string &argument = arguments[i];
        if (argument == "--nproc" || argument == "--gpus") {
            ++i; // and its value
            continue;
        }
        if (argument.rfind("--nproc=", 0) == 0 || argument.rfind("--gpus=", 0) == 0)
            continue;
        kept.push_back(argument);
    }
    return kept;
}

int runLocalWorkers(const LocalWorkers &workers, const std::vector<std::string> &arguments)
{
    const std::vector<std::string> kept = workerArguments(arguments);
    core::WorkerSpawn spawn;
    spawn.program = "/proc/self/exe";
    spawn.arguments.assign(kept.begin() + (kept.empty() ? 0 : 1), kept.end());
    spawn.worldSize = workers.count;
    spawn.masterPort = core::freeLoopbackPort();
    spawn.environment.emplace_back("EMLOC_WORKER_DEVICE", workers.gpus.empty() ? "cpu" : "cuda");
    if (!workers.gpus.empty())
        spawn.environment.emplace_back("CUDA_VISIBLE_DEVICES", workers.gpus);
    std::fflush(stdout);
    std::fflush(stderr);

    struct sigaction action
    {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    std::optional<core::LocalWorkers> started;
    try {
        started.emplace(spawn);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "emloc: %s\n", e.what());
        return kExitError;
    }
    core::LocalWorkers &group = *started;
    int exitCode = kExitOk;
    bool failed = false, forwarded = false;
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (group.running() > 0) {
        if (g_signal != 0 && !forwarded) {
            group.signal(SIGINT); // each stops at its next safe point, as one process does on Ctrl-C
            forwarded = true;
            g_signal = 0;
        } else if (g_signal != 0) {
            group.signal(SIGKILL); // a second Ctrl-C: now
            g_signal = 0;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr,
                         "emloc: the other workers did not stop within %.0f s of the failure; "
                         "ending them\n",
                         workers.timeoutSeconds);
            group.signal(SIGKILL);
            deadline = std::chrono::steady_clock::time_point::max();
        }
        const std::optional<core::WorkerExit> exit = group.poll();
        if (!exit) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        if (exit->succeeded || failed)
            continue;
        failed = true;
        // After a Ctrl-C a rank may fail rather than cancel (its partner stopped first): the job was
        // cancelled.
        exitCode = forwarded ? kExitCancelled : kExitError;
        if (!forwarded) {
            std::fprintf(stderr, "emloc: worker rank %d (pid %d) ended with %s; the others stop too\n",
                         exit->rank, static_cast<int>(exit->pid), exit->status.c_str());
            if (exit->status.rfind("exit code ", 0) == 0)
                exitCode = std::atoi(exit->status.c_str() + 10);
        }
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>((workers.timeoutSeconds + 30) * 1000));
    }
    return exitCode;
}

} // namespace emloc::cli
