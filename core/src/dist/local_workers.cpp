#include "emloc/dist/local_workers.h"

#include "emloc/api/error.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace emloc::core {

namespace {

std::string describeExit(int status)
{
    if (WIFEXITED(status))
        return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("signal ") + strsignal(WTERMSIG(status));
    return "an unknown status";
}

// This process's environment with the rank's variables set over it.
std::vector<std::string> workerEnvironment(const WorkerSpawn &spawn, int rank)
{
    std::map<std::string, std::string> variables;
    for (char **entry = environ; entry && *entry; ++entry) {
        const std::string text = *entry;
        const size_t equals = text.find('=');
        if (equals != std::string::npos)
            variables[text.substr(0, equals)] = text.substr(equals + 1);
    }
    const std::string world = std::to_string(spawn.worldSize);
    variables["RANK"] = variables["LOCAL_RANK"] = std::to_string(rank);
    variables["WORLD_SIZE"] = variables["LOCAL_WORLD_SIZE"] = world;
    variables["MASTER_ADDR"] = "127.0.0.1";
    variables["MASTER_PORT"] = std::to_string(spawn.masterPort);
    for (const auto &[name, value] : spawn.environment)
        variables[name] = value;
    std::vector<std::string> environment;
    for (const auto &[name, value] : variables)
        environment.push_back(name + "=" + value);
    return environment;
}

} // namespace

LocalWorkers::LocalWorkers(const WorkerSpawn &spawn) : m_logFolder(spawn.logFolder)
{
    std::vector<std::string> argumentText{spawn.program};
    argumentText.insert(argumentText.end(), spawn.arguments.begin(), spawn.arguments.end());
    std::vector<char *> argv;
    for (std::string &argument : argumentText)
        argv.push_back(argument.data());
    argv.push_back(nullptr);

    pid_t group = 0;
    for (int rank = spawn.firstRank; rank < spawn.worldSize; ++rank) {
        std::vector<std::string> environmentText = workerEnvironment(spawn, rank);
        std::vector<char *> envp;
        for (std::string &variable : environmentText)
            envp.push_back(variable.data());
        envp.push_back(nullptr);

        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        sigset_t defaults, none;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGTERM);
        sigemptyset(&none);
        posix_spawnattr_setsigdefault(&attributes, &defaults);
        posix_spawnattr_setsigmask(&attributes, &none);
        posix_spawnattr_setpgroup(&attributes, group);
        posix_spawnattr_setflags(&attributes,
                                 POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        const std::string log = logFile(rank);
        if (!log.empty()) {
            posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                             0644);
            posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
        }
        pid_t pid = 0;
        const int error =
            posix_spawn(&pid, spawn.program.c_str(), &files, &attributes, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&files);
        posix_spawnattr_destroy(&attributes);
        if (error != 0) {
            signal(SIGKILL);
            waitAll(0);
            throw Error("cannot start the worker process '" + spawn.program + "' for rank " +
                        std::to_string(rank) + ": " + std::strerror(error));
        }
        if (group == 0)
            group = pid;
        m_workers.push_back({rank, pid, false});
    }
}

LocalWorkers::~LocalWorkers()
{
    if (running() > 0) {
        signal(SIGKILL);
        waitAll(0);
    }
}

std::optional<WorkerExit> LocalWorkers::poll()
{
    for (Worker &worker : m_workers) {
        if (worker.ended)
            continue;
        int status = 0;
        const pid_t pid = waitpid(worker.pid, &status, WNOHANG);
        if (pid == worker.pid || (pid < 0 && errno == ECHILD)) {
            worker.ended = true;
            const bool known = pid == worker.pid;
            return WorkerExit{worker.rank, worker.pid, known && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                              known ? describeExit(status) : "an unknown status"};
        }
    }
    return std::nullopt;
}

int LocalWorkers::running() const
{
    int count = 0;
    for (const Worker &worker : m_workers)
        count += worker.ended ? 0 : 1;
    return count;
}

void LocalWorkers::signal(int signal)
{
    for (const Worker &worker : m_workers)
        if (!worker.ended)
            ::kill(worker.pid, signal);
}

std::vector<WorkerExit> LocalWorkers::waitAll(double seconds)
{
    std::vector<WorkerExit> exits;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    bool killed = false;
    while (running() > 0) {
        if (std::optional<WorkerExit> exit = poll()) {
            exits.push_back(*exit);
            continue;
        }
        if (!killed && std::chrono::steady_clock::now() >= deadline) {
            signal(SIGKILL);
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exits;
}

std::string LocalWorkers::logFile(int rank) const
{
    return m_logFolder.empty() ? std::string() : m_logFolder + "/rank-" + std::to_string(rank) + ".log";
}

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

} // namespace emloc::core
