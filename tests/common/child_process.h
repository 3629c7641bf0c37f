#pragma once
// Running the CLI and the Python reference scripts from core's suites, without Qt (POSIX).

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace emloc::test {

// Result of running a process to completion.
struct ProcessResult
{
    int exitCode = -1; // -1 when it was killed by a signal or did not start
    std::string out;
    std::string err;
    bool timedOut = false;
};

struct ProcessOptions
{
    int timeoutMs = 300000;
    std::string input;                              // written to its standard input, which is then closed
    std::map<std::string, std::string> environment; // set on top of this process's environment
};

// Runs `program` (looked up in PATH when it has no slash) to completion, or kills it at the timeout.
ProcessResult runProcess(const std::string &program, const std::vector<std::string> &args,
                         const ProcessOptions &options = {});

// Runs tests/reference/<script> with the venv's Python. Reference tests fail (not skip) when the
// venv is missing: CI always has it.
ProcessResult runPythonScript(const std::string &script, const std::vector<std::string> &args,
                              int timeoutMs = 300000);

// Runs the `emloc` CLI built alongside the tests.
ProcessResult runCli(const std::vector<std::string> &args, int timeoutMs = 300000,
                     const std::string &stdinData = {});

// "exit N\nstdout: ...\nstderr: ..." (the tails) for a failed assertion's message.
std::string describe(const ProcessResult &result);

// The last non-empty line of a program's output (a reference script's JSON result), trimmed.
std::string lastLine(const std::string &output);

// A process that runs while the test watches it (to kill it part-way). Its output goes to files, so
// it never blocks on a full pipe.
class ChildProcess
{
public:
    ChildProcess(const std::string &program, const std::vector<std::string> &args,
                 const ProcessOptions &options = {}); // the timeout is wait()'s business
    ~ChildProcess();                                  // kills it if it still runs
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;

    bool running();
    pid_t pid() const { return m_pid; }
    void kill(int signal);
    // Waits for it to end: its exit code, or -1 when a signal ended it (`signalled()` tells). Past
    // `timeoutMs` (when >= 0) it is killed and wait() returns -1 with `timedOut()` set.
    int wait(int timeoutMs = -1);
    bool timedOut() const { return m_timedOut; }
    bool signalled() const { return m_signalled; }
    std::string standardError() const;
    std::string standardOutput() const;

private:
    void reap(int status);
    pid_t m_pid = -1;
    bool m_finished = false;
    bool m_signalled = false;
    bool m_timedOut = false;
    int m_exitCode = -1;
    std::string m_folder; // its input and output files
    std::string m_startError;
};

} // namespace emloc::test
