// Crash safety of `emloc train`: a training process killed with SIGKILL mid-run leaves only complete
// files (the checkpoint, metrics.jsonl, nothing half-written), and `--resume` continues from the last
// checkpoint to the same adapter as a run that was never interrupted. On the demo model (SmolLM2-135M).
#include "test_support.h"

#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace emloc;
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 12;
constexpr int kCheckpointEvery = 3;

QStringList trainArguments(const QString &out)
{
    return {"--json",
            "train",
            test::demoGgufPath(),
            "--data",
            test::sourceDir() + "/resources/demo/bookings-train.jsonl",
            "--out",
            out,
            "--steps",
            QString::number(kSteps),
            "--batch",
            "1",
            "--grad-accum",
            "1",
            "--max-length",
            "128",
            "--checkpoint-every",
            QString::number(kCheckpointEvery),
            "--lora-dropout",
            "0",
            "--seed",
            "7"};
}

// The "step" of every line of metrics.jsonl; fails the test on a line that is not complete JSON.
std::vector<int64_t> metricSteps(const fs::path &file)
{
    std::vector<int64_t> steps;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_discarded())
            throw std::runtime_error("metrics.jsonl holds a line that is not JSON: " + line);
        if (parsed.value("stage", "") == "train")
            steps.push_back(parsed.value("step", int64_t(-1)));
    }
    return steps;
}

double maxAdapterDifference(const core::PeftAdapter &a, const core::PeftAdapter &b)
{
    double worst = 0;
    for (const auto &module : a.modules) {
        const auto *other = b.find(module.module);
        if (!other)
            return INFINITY;
        worst = std::max({worst, (module.a - other->a).abs().max().item<double>(),
                          (module.b - other->b).abs().max().item<double>()});
    }
    return worst;
}

} // namespace

class TestStage2Kill : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void killedTrainingResumesFromItsLastCheckpoint()
    {
        QVERIFY2(QFile::exists(test::demoGgufPath()), "the demo model is missing: run scripts/setup.sh");
        QTemporaryDir dir;
        const QString straight = dir.filePath("straight");
        const QString killed = dir.filePath("killed");

        auto reference = test::runCli(trainArguments(straight), 600000);
        QVERIFY2(reference.exitCode == 0, qPrintable(test::describe(reference)));

        // Start the same run and SIGKILL it once metrics.jsonl shows a step past the second checkpoint.
        QProcess process;
        process.setProgram(QStringLiteral(EMLOC_CLI_BINARY));
        process.setArguments(trainArguments(killed));
        process.start();
        QVERIFY(process.waitForStarted());
        const int killAfterStep = 2 * kCheckpointEvery + 1;
        QElapsedTimer timer;
        timer.start();
        int64_t lastStep = 0;
        while (lastStep < killAfterStep) {
            QVERIFY2(timer.elapsed() < 300000, "the training did not reach the step to kill it at");
            QVERIFY2(process.state() == QProcess::Running,
                     qPrintable("the training ended early: " + process.readAllStandardError()));
            QThread::msleep(50);
            try {
                const auto steps = metricSteps(fs::path(killed.toStdString()) / "metrics.jsonl");
                lastStep = steps.empty() ? 0 : steps.back();
            } catch (const std::exception &e) {
                QFAIL(e.what()); // metrics.jsonl must be complete at every moment
            }
        }
        process.kill(); // SIGKILL: no handler runs, nothing is flushed
        QVERIFY(process.waitForFinished(30000));
        QCOMPARE(process.exitStatus(), QProcess::CrashExit);
        qInfo("killed at step %lld of %d (checkpoints every %d steps)", static_cast<long long>(lastStep),
              kSteps, kCheckpointEvery);

        // What the kill left: complete files only. The final adapter is not there yet; a checkpoint is,
        // and it loads; metrics.jsonl parses line by line.
        const fs::path out = killed.toStdString();
        QVERIFY(!fs::exists(out / "adapter_model.safetensors"));
        QVERIFY(!fs::exists(out / "training_summary.json"));
        const fs::path checkpoint = fs::exists(out / "checkpoint" / "trainer_state.json")
                                        ? out / "checkpoint"
                                        : out / "checkpoint.previous";
        const auto state = nlohmann::json::parse(std::ifstream(checkpoint / "trainer_state.json"));
        const int64_t checkpointStep = state.at("step").get<int64_t>();
        QVERIFY2(checkpointStep >= 2 * kCheckpointEvery && checkpointStep % kCheckpointEvery == 0,
                 qPrintable(QString("checkpoint at step %1").arg(checkpointStep)));
        QVERIFY(!core::readPeftAdapter(checkpoint.string()).modules.empty());
        QVERIFY(!core::SafetensorsFile((checkpoint / "trainer_state.safetensors").string()).names().empty());
        for (const auto &entry : fs::recursive_directory_iterator(out))
            QVERIFY2(entry.path().filename().string().find(".partial") == std::string::npos,
                     qPrintable(
                         QString::fromStdString("a half-written folder was left: " + entry.path().string())));
        QVERIFY(metricSteps(out / "metrics.jsonl").back() >= checkpointStep);

        // Resume: it continues from that checkpoint and ends where the uninterrupted run ended.
        auto resumed = test::runCli(trainArguments(killed) << "--resume", 600000);
        QVERIFY2(resumed.exitCode == 0, qPrintable(test::describe(resumed)));
        const auto summary = nlohmann::json::parse(resumed.out.toStdString());
        QCOMPARE(summary.at("resumed_from_step").get<int64_t>(), checkpointStep);
        QCOMPARE(summary.at("steps").get<int64_t>(), int64_t(kSteps));

        std::vector<int64_t> expectedSteps;
        for (int step = 1; step <= kSteps; ++step)
            expectedSteps.push_back(step);
        QCOMPARE(metricSteps(out / "metrics.jsonl"), expectedSteps); // no step lost, none twice

        // The killed process's temporaries are gone once the resumed run has written the same files.
        for (const auto &entry : fs::recursive_directory_iterator(out)) {
            const std::string name = entry.path().filename().string();
            QVERIFY2(
                name.find(".tmp-") == std::string::npos && name.find(".partial") == std::string::npos,
                qPrintable(QString::fromStdString("left over after the resume: " + entry.path().string())));
        }

        const double difference = maxAdapterDifference(core::readPeftAdapter(straight.toStdString()),
                                                       core::readPeftAdapter(out.string()));
        qInfo("resumed after a SIGKILL vs uninterrupted: max abs LoRA weight difference %.3g", difference);
        QVERIFY2(difference < 1e-5, qPrintable(QString::number(difference)));
    }
};

QTEST_GUILESS_MAIN(TestStage2Kill)
#include "test_stage2_kill.moc"
