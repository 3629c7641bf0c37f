#include "test_support.h"

#include <QDir>
#include <QProcess>

namespace emloc::test {

namespace {
ProcessResult runProcess(const QString &program, const QStringList &args, int timeoutMs,
                         const QByteArray &input)
{
    QProcess process;
    process.start(program, args);
    ProcessResult result;
    if (!process.waitForStarted(30000)) {
        result.err = ("could not start " + program).toUtf8();
        return result;
    }
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        result.timedOut = true;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}
} // namespace

QString pythonExecutable()
{
    return QStringLiteral(EMLOC_PYTHON);
}

ProcessResult runPythonScript(const QString &script, const QStringList &args, int timeoutMs)
{
    QStringList all{QDir(QStringLiteral(EMLOC_TEST_SCRIPTS)).filePath(script)};
    all += args;
    return runProcess(pythonExecutable(), all, timeoutMs, {});
}

ProcessResult runCli(const QStringList &args, int timeoutMs, const QByteArray &stdinData)
{
    return runProcess(QStringLiteral(EMLOC_CLI_BINARY), args, timeoutMs, stdinData);
}

QString demoGgufPath()
{
    return QStringLiteral(EMLOC_DEMO_GGUF);
}

QString testDataDir()
{
    return QStringLiteral(EMLOC_TEST_DATA);
}

QString sourceDir()
{
    return QStringLiteral(EMLOC_SOURCE_DIR);
}

QString describe(const ProcessResult &result)
{
    return QString("exit %1\nstdout: %2\nstderr: %3")
        .arg(result.exitCode)
        .arg(QString::fromUtf8(result.out.right(2000)))
        .arg(QString::fromUtf8(result.err.right(2000)));
}

} // namespace emloc::test
