#include "local_workers.h"

#include "cli_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// A port the kernel says is free now; rank 0 binds it a moment later.
int freeLoopbackPort()
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 29500;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    int port = 29500;
    if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    close(fd);
    return port;
}

std::string describeExit(int status)
{
    if (WIFEXITED(status))
        return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("signal ") + strsignal(WTERMSIG(status));
    return "an unknown status";
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
    std::vector<char *> argv;
    for (const auto &argument : kept)
        argv.push_back(const_cast<char *>(argument.c_str()));
    argv.push_back(nullptr);
    const std::string port = std::to_string(freeLoopbackPort());
    std::fflush(stdout);
    std::fflush(stderr);

    struct sigaction action
    {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    // The workers form their own process group, so a Ctrl-C in the terminal reaches them once, from here.
    pid_t group = 0;
    std::vector<pid_t> pids;
    for (int rank = 0; rank < workers.count; ++rank) {
        const pid_t pid = fork();
        if (pid < 0) {
            std::perror("emloc: cannot start a worker process");
            break;
        }
        if (pid == 0) {
            setpgid(0, group);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            const std::string rankText = std::to_string(rank), world = std::to_string(workers.count);
            setenv("RANK", rankText.c_str(), 1);
            setenv("LOCAL_RANK", rankText.c_str(), 1);
            setenv("WORLD_SIZE", world.c_str(), 1);
            setenv("LOCAL_WORLD_SIZE", world.c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", port.c_str(), 1);
            setenv("EMLOC_WORKER_DEVICE", workers.gpus.empty() ? "cpu" : "cuda", 1);
            if (!workers.gpus.empty())
                setenv("CUDA_VISIBLE_DEVICES", workers.gpus.c_str(), 1);
            execv("/proc/self/exe", argv.data());
            std::perror("emloc: cannot start a worker process");
            std::_Exit(kExitError);
        }
        if (group == 0)
            group = pid;
        setpgid(pid, group);
        pids.push_back(pid);
    }

    int exitCode = pids.size() == static_cast<size_t>(workers.count) ? kExitOk : kExitError;
    if (pids.size() < static_cast<size_t>(workers.count) && group != 0)
        kill(-group, SIGTERM); // never 0: that would be this launcher's own process group
    size_t running = pids.size();
    bool failed = false, forwarded = false;
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (running > 0) {
        if (g_signal != 0 && !forwarded) {
            kill(-group, SIGINT); // each stops at its next safe point, as one process does on Ctrl-C
            forwarded = true;
            g_signal = 0;
        } else if (g_signal != 0) {
            kill(-group, SIGKILL); // a second Ctrl-C: now
            g_signal = 0;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr,
                         "emloc: the other workers did not stop within %.0f s of the failure; "
                         "ending them\n",
                         workers.timeoutSeconds);
            kill(-group, SIGKILL);
            deadline = std::chrono::steady_clock::time_point::max();
        }
        int status = 0;
        const pid_t pid = waitpid(-group, &status, WNOHANG);
        if (pid <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        --running;
        int rank = 0;
        for (size_t i = 0; i < pids.size(); ++i)
            if (pids[i] == pid)
                rank = static_cast<int>(i);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok || failed)
            continue;
        failed = true;
        // After a Ctrl-C a rank may fail rather than cancel (its partner stopped first): the job was
        // cancelled.
        exitCode = forwarded ? kExitCancelled : WIFEXITED(status) ? WEXITSTATUS(status) : kExitError;
        if (!forwarded)
            std::fprintf(stderr, "emloc: worker rank %d (pid %d) ended with %s; the others stop too\n", rank,
                         static_cast<int>(pid), describeExit(status).c_str());
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>((workers.timeoutSeconds + 30) * 1000));
    }
    return exitCode;
}

} // namespace emloc::cli
