#include "child_process.h"

#include "unit_test.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace emloc::test {

namespace {

std::string readIfPresent(const std::string &path)
{
    return fileExists(path) ? readFile(path) : std::string();
}

} // namespace

ChildProcess::ChildProcess(const std::string &program, const std::vector<std::string> &args,
                           const ProcessOptions &options)
{
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/emloc-child-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        fail("could not create a temporary folder under " + pattern, __FILE__, __LINE__);
    m_folder = pattern;
    const std::string inPath = m_folder + "/in", outPath = m_folder + "/out", errPath = m_folder + "/err";
    writeFile(inPath, options.input);

    // Everything the child needs is built before fork(): after it, a process with LibTorch's threads
    // may only make async-signal-safe calls until exec.
    std::vector<std::string> argStrings{program};
    argStrings.insert(argStrings.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &arg : argStrings)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> envStrings;
    for (char **entry = environ; *entry; ++entry) {
        const std::string variable(*entry);
        if (!options.environment.count(variable.substr(0, variable.find('='))))
            envStrings.push_back(variable);
    }
    for (const auto &[name, value] : options.environment)
        envStrings.push_back(name + "=" + value);
    std::vector<char *> envp;
    for (auto &variable : envStrings)
        envp.push_back(variable.data());
    envp.push_back(nullptr);

    const int in = ::open(inPath.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in < 0 || out < 0 || err < 0)
        fail("could not open the child's files in " + m_folder, __FILE__, __LINE__);
    m_pid = ::fork();
    if (m_pid == 0) {
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::execvpe(argv[0], argv.data(), envp.data());
        const char message[] = "could not start the program\n";
        [[maybe_unused]] auto ignored = ::write(2, message, sizeof message - 1);
        ::_exit(127);
    }
    ::close(in);
    ::close(out);
    ::close(err);
    if (m_pid < 0)
        fail("fork failed: " + std::string(std::strerror(errno)), __FILE__, __LINE__);
}

ChildProcess::~ChildProcess()
{
    if (m_pid > 0 && !m_finished) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(m_folder, ignored);
}

void ChildProcess::reap(int status)
{
    m_finished = true;
    m_signalled = WIFSIGNALED(status);
    m_exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ChildProcess::running()
{
    if (m_finished)
        return false;
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid)
        reap(status);
    return !m_finished;
}

void ChildProcess::kill(int signal)
{
    if (!m_finished)
        ::kill(m_pid, signal);
}

int ChildProcess::wait(int timeoutMs)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (running()) {
        if (timeoutMs >= 0 && std::chrono::steady_clock::now() > deadline) {
            kill(SIGKILL);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
            reap(status);
            m_timedOut = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return m_exitCode;
}

std::string ChildProcess::standardOutput() const
{
    return readIfPresent(m_folder + "/out");
}

std::string ChildProcess::standardError() const
{
    return readIfPresent(m_folder + "/err");
}

ProcessResult runProcess(const std::string &program, const std::vector<std::string> &args,
                         const ProcessOptions &options)
{
    ChildProcess child(program, args, options);
    ProcessResult result;
    result.exitCode = child.wait(options.timeoutMs);
    result.timedOut = child.timedOut();
    result.out = child.standardOutput();
    result.err = child.standardError();
    return result;
}

ProcessResult runPythonScript(const std::string &script, const std::vector<std::string> &args, int timeoutMs)
{
    std::vector<std::string> all{referenceScript(script)};
    all.insert(all.end(), args.begin(), args.end());
    ProcessOptions options;
    options.timeoutMs = timeoutMs;
    return runProcess(pythonExecutable(), all, options);
}

ProcessResult runCli(const std::vector<std::string> &args, int timeoutMs, const std::string &stdinData)
{
    ProcessOptions options;
    options.timeoutMs = timeoutMs;
    options.input = stdinData;
    return runProcess(cliBinary(), args, options);
}

std::string describe(const ProcessResult &result)
{
    return "exit " + std::to_string(result.exitCode) + (result.timedOut ? " (timed out)" : "") +
           "\nstdout: " + tail(result.out, 2000) + "\nstderr: " + tail(result.err, 2000);
}

std::string lastLine(const std::string &output)
{
    size_t end = output.find_last_not_of(" \t\r\n");
    if (end == std::string::npos)
        return {};
    const size_t start = output.rfind('\n', end);
    return output.substr(start == std::string::npos ? 0 : start + 1,
                         end + 1 - (start == std::string::npos ? 0 : start + 1));
}

} // namespace emloc::test
