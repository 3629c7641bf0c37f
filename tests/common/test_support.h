#pragma once
// Helpers shared by the test suites: the reference Python of the venv, the demo model, the CLI.

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace emloc::test {

// Result of running a process to completion.
struct ProcessResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    bool timedOut = false;
};

// Runs tests/reference/<script> with the venv's Python. Reference tests fail (not skip) when the
// venv is missing: CI always has it.
ProcessResult runPythonScript(const QString &script, const QStringList &args, int timeoutMs = 300000);

// "exit N, stdout: ..., stderr: ..." (the tails) for a failed assertion's message.
QString describe(const ProcessResult &result);

// Runs the `emloc` CLI built alongside the tests.
ProcessResult runCli(const QStringList &args, int timeoutMs = 300000, const QByteArray &stdinData = {});

QString pythonExecutable();
QString demoGgufPath(); // the SmolLM2-135M-Instruct Q4_1 GGUF fetched by setup
QString testDataDir();  // tests/data
QString sourceDir();

} // namespace emloc::test
