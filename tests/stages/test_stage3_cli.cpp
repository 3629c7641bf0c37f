// `emloc correct` and `emloc export` end to end: JSON output, exit codes, and the files they leave.
#include "stage3_test_util.h"
#include "test_support.h"

#include "emloc/io/peft_adapter.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <sys/stat.h>

using namespace emloc;
using namespace emloc::test;

namespace {
// model/, emulator/ and adapter/ under `root`: a small Llama, its emulator and a LoRA trained on it.
core::ModelConfig writeModelEmulatorAndAdapter(const std::string &root)
{
    core::ModelConfig config = smallConfig("llama");
    auto weights = randomWeights(config, 31);
    writeModelFolder(root + "/model", config, *weights);
    writeEmulatorFolder(root + "/emulator", config, *weights, 6);
    core::writePeftAdapter(randomAdapter(*weights, allModules(config), 4, 8.0, 2), root + "/adapter");
    return config;
}
} // namespace

class Stage3CliTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void correctAndExport()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        const core::ModelConfig config = writeModelEmulatorAndAdapter(root);
        const QString r = QString::fromStdString(root);

        auto correct = runCli({"--json", "correct", "--model", r + "/model", "--emulator", r + "/emulator",
                               "--adapter", r + "/adapter", "--out", r + "/corrected", "--clamp", "2.5"});
        QVERIFY2(correct.exitCode == 0, correct.err.constData());
        const nlohmann::json report = nlohmann::json::parse(correct.out.toStdString());
        QCOMPARE(report["module_count"].get<int64_t>(), int64_t(7 * config.numLayers));
        QCOMPARE(report["clamp_limit"].get<double>(), 2.5);
        QVERIFY(std::filesystem::exists(root + "/corrected/correction_report.json"));

        // --clamp and --no-clamp exclude each other: a usage error.
        auto both = runCli({"correct", "--model", r + "/model", "--emulator", r + "/emulator", "--adapter",
                            r + "/adapter", "--out", r + "/x", "--clamp", "2", "--no-clamp"});
        QCOMPARE(both.exitCode, 2);

        // A missing emulator: exit 1 and a message naming it; nothing written.
        auto missing = runCli({"correct", "--model", r + "/model", "--emulator", r + "/nowhere", "--adapter",
                               r + "/adapter", "--out", r + "/y"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("nowhere"), missing.err.constData());
        QVERIFY(!std::filesystem::exists(root + "/y"));

        auto exported = runCli({"--json", "export", "--model", r + "/model", "--adapter", r + "/corrected",
                                "--format", "gguf-lora", "--out", r + "/lora.gguf"});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        const nlohmann::json result = nlohmann::json::parse(exported.out.toStdString());
        QCOMPARE(result["format"].get<std::string>(), std::string("gguf-lora"));
        QVERIFY(result["bytes"].get<int64_t>() > 0);

        auto peft = runCli({"export", "--model", r + "/model", "--adapter", r + "/corrected", "--format",
                            "peft", "--out", r + "/peft"});
        QVERIFY2(peft.exitCode == 0, peft.err.constData());
        core::PeftAdapter a = core::readPeftAdapter(root + "/corrected");
        core::PeftAdapter b = core::readPeftAdapter(root + "/peft");
        QCOMPARE(a.modules.size(), b.modules.size());

        // An adapter for another model: exit 1, no output file.
        core::ModelConfig other = config;
        other.intermediateSize = 64;
        auto otherWeights = randomWeights(other, 4);
        core::writePeftAdapter(randomAdapter(*otherWeights, allModules(other), 4, 8.0, 2), root + "/wrong");
        auto wrong = runCli({"export", "--model", r + "/model", "--adapter", r + "/wrong", "--format",
                             "gguf-lora", "--out", r + "/wrong.gguf"});
        QCOMPARE(wrong.exitCode, 1);
        QVERIFY2(wrong.err.contains("another model"), wrong.err.constData());
        QVERIFY(!std::filesystem::exists(root + "/wrong.gguf"));
    }

    // The corrected adapter and the exported folders get the user's umask (0777 & ~umask for folders,
    // 0666 & ~umask for files), whatever way they were staged.
    void outputsFollowTheUmask()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        writeModelEmulatorAndAdapter(root);
        const QString r = QString::fromStdString(root);
        for (const mode_t mask : {mode_t(022), mode_t(077)}) {
            const QString tag = QString::number(mask, 8);
            const mode_t previous = ::umask(mask); // the child processes inherit it
            auto correct = runCli({"-q", "correct", "--model", r + "/model", "--emulator", r + "/emulator",
                                   "--adapter", r + "/adapter", "--out", r + "/corrected-" + tag});
            auto peft = runCli({"-q", "export", "--model", r + "/model", "--adapter", r + "/adapter",
                                "--format", "peft", "--out", r + "/peft-" + tag});
            auto merged = runCli({"-q", "export", "--model", r + "/model", "--adapter", r + "/adapter",
                                  "--format", "merged", "--out", r + "/merged-" + tag});
            ::umask(previous);
            for (const auto &result : {correct, peft, merged})
                QVERIFY2(result.exitCode == 0, result.err.constData());
            for (const QString &name : {"corrected-" + tag, "peft-" + tag, "merged-" + tag}) {
                const std::filesystem::path folder = root + "/" + name.toStdString();
                struct stat info
                {};
                QVERIFY(::stat(folder.c_str(), &info) == 0);
                QVERIFY2((info.st_mode & 07777) == (0777 & ~mask),
                         qPrintable(name + " is " + QString::number(info.st_mode & 07777, 8)));
                for (const auto &entry : std::filesystem::directory_iterator(folder)) {
                    QVERIFY(::stat(entry.path().c_str(), &info) == 0);
                    QVERIFY2((info.st_mode & 07777) == (0666 & ~mask),
                             qPrintable(QString::fromStdString(entry.path().string()) + " is " +
                                        QString::number(info.st_mode & 07777, 8)));
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(Stage3CliTest)
#include "test_stage3_cli.moc"
