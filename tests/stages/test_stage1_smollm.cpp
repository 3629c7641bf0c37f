// Stage 1 on the demo model (SmolLM2-135M-Instruct, GGUF) with 64 samples of the demo dataset at ratio 0.4:
// construction time and peak memory against the peak of inference of the full model, and the loss of
// both on the calibration samples.
#include "test_support.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using emloc::test::runCli;

class TestStage1SmolLM : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void buildTheDemoEmulator()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString model = emloc::test::demoGgufPath();
        QVERIFY2(QFile::exists(model), qPrintable(model + " is missing: run scripts/setup.sh"));
        const QString data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        const QString out = dir.filePath("smollm-emulator");
        const QStringList common{"--data", data, "--calibration-samples", "64", "--json"};
        auto build =
            runCli(QStringList{"build-emulator", model, "--out", out, "--ratio", "0.4"} + common, 1500000);
        QVERIFY2(build.exitCode == 0, build.err.right(3000).constData());
        auto original = runCli(QStringList{"evaluate-loss", model} + common, 900000);
        QVERIFY2(original.exitCode == 0, original.err.right(3000).constData());
        auto emulator = runCli(QStringList{"evaluate-loss", out} + common, 900000);
        QVERIFY2(emulator.exitCode == 0, emulator.err.right(3000).constData());
        const QJsonObject built = QJsonDocument::fromJson(build.out).object();
        const QJsonObject inference = QJsonDocument::fromJson(original.out).object();
        const QJsonObject emulated = QJsonDocument::fromJson(emulator.out).object();
        const double mib = 1 << 20;
        qInfo("SmolLM2-135M, 64 samples (%d tokens), ratio 0.4: construction %.1f s, peak %.1f MiB (planner "
              "%.1f "
              "MiB); inference of the full model: peak %.1f MiB; parameters %.2f M -> %.2f M; mean retained "
              "energy %.4f; loss original %.4f, emulator %.4f",
              built["calibration_tokens"].toInt(), built["seconds"].toDouble(),
              built["peak_memory_bytes"].toDouble() / mib, built["predicted_peak_bytes"].toDouble() / mib,
              inference["peak_memory_bytes"].toDouble() / mib,
              built["parameters"].toObject()["original"].toDouble() / 1e6,
              built["parameters"].toObject()["emulator"].toDouble() / 1e6,
              built["mean_retained_energy"].toDouble(), inference["loss"].toDouble(),
              emulated["loss"].toDouble());
        QVERIFY(built["peak_memory_bytes"].toDouble() < inference["peak_memory_bytes"].toDouble());
        QVERIFY(emulated["loss"].toDouble() > inference["loss"].toDouble());
        QVERIFY(std::isfinite(emulated["loss"].toDouble()));
    }
};

QTEST_GUILESS_MAIN(TestStage1SmolLM)
#include "test_stage1_smollm.moc"
