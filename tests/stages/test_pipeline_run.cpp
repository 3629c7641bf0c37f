// `emloc run` end to end on a small random model with its own tokenizer: every stage runs, the summary
// holds each stage's time and peak, and a second run reuses what the first one made; changing one
// setting reruns only the stages that depend on it.
#include "../common/test_support.h"

#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/pipeline.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <functional>

using emloc::test::describe;
using emloc::test::runCli;
using emloc::test::runPythonScript;

namespace {
QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// stage name -> skipped, from summary.json
QMap<QString, bool> skippedStages(const QJsonObject &summary)
{
    QMap<QString, bool> out;
    for (const auto &stage : summary["stages"].toArray())
        out[stage.toObject()["stage"].toString()] = stage.toObject()["skipped"].toBool();
    return out;
}
} // namespace

class TestPipelineRun : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        auto made =
            runPythonScript("stage1_make_model.py", {m_dir.filePath("model"), data, "2", "128", "256"});
        QVERIFY2(made.exitCode == 0, qPrintable(describe(made)));
        writeConfig(3.0);
    }

    void wholeRun()
    {
        auto run = runCli({"run", m_dir.filePath("run.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        // The table a person reads at the end.
        for (const char *line : {"1 build the emulator", "2 LoRA on the emulator", "3 correct the LoRA",
                                 "3+ refine the last layers", "original + LoRA, corrected + refined (EMLoC)",
                                 "original + LoRA, uncorrected", "Exported peft", "Exported gguf-lora"})
            QVERIFY2(run.out.contains(line), qPrintable(describe(run)));

        const QString out = m_dir.filePath("out");
        const QJsonObject summary = readJson(out + "/summary.json");
        const QJsonArray stages = summary["stages"].toArray();
        QCOMPARE(stages.size(), 6); // refinement is on by default
        for (const auto &value : stages) {
            const QJsonObject stage = value.toObject();
            QVERIFY2(!stage["skipped"].toBool(), qPrintable(stage["stage"].toString()));
            QVERIFY2(stage["seconds"].toDouble() > 0, qPrintable(stage["stage"].toString()));
            QVERIFY2(stage["peak_memory_bytes"].toInteger() > 0, qPrintable(stage["stage"].toString()));
        }
        QVERIFY(summary["inference_peak_memory_bytes"].toInteger() > 0);
        // Beside each planned stage's measured peak, the planner's prediction for the run's settings.
        const auto config = emloc::core::loadPipelineConfig(m_dir.filePath("run.json").toStdString());
        const auto model = emloc::core::openModel(config.model).config;
        const auto plan =
            emloc::core::planMemory(emloc::core::plannableConfig(model),
                                    emloc::core::pipelinePlanSettings(config), summary["ratio"].toDouble());
        const QMap<QString, int64_t> planned = {
            {"emulator", plan.construction.totalBytes()},
            {"train", plan.fineTuning.totalBytes()},
            {"correct", plan.correction.totalBytes()},
            {"refine", emloc::core::pipelineRefinementBytes(config, model)},
            {"evaluate", -1},
            {"export", -1}};
        for (const auto &value : stages) {
            const QJsonObject stage = value.toObject();
            const QString name = stage["stage"].toString();
            QVERIFY2(planned.contains(name), qPrintable(name));
            QCOMPARE(stage["planned_peak_memory_bytes"].toInteger(), planned[name]);
        }
        QVERIFY(planned["train"] > 0 && planned["refine"] > 0);
        QVERIFY2(run.out.contains("Planned"), qPrintable(describe(run)));
        const QJsonArray models = summary["evaluation"].toObject()["models"].toArray();
        QCOMPARE(models.size(), 4);
        for (const auto &model : models)
            QVERIFY(std::isfinite(model.toObject()["loss"].toDouble()));

        // The corrected and refined adapters and the PEFT export load with the engine's own reader; the
        // export is the refined one (the model's 2 layers are all within the default 4 refined).
        const auto corrected = emloc::core::readPeftAdapter((out + "/corrected-adapter").toStdString());
        QCOMPARE(corrected.modules.size(), size_t(2 * 7));
        const auto refined = emloc::core::readPeftAdapter((out + "/refined-adapter").toStdString());
        const auto exported = emloc::core::readPeftAdapter((out + "/export/peft-adapter").toStdString());
        QCOMPARE(exported.modules.size(), corrected.modules.size());
        QVERIFY(torch::equal(exported.modules.front().b, refined.modules.front().b));
        QVERIFY(!torch::equal(refined.modules.front().b, corrected.modules.front().b));
        // The summary names it, for the Studio's later exports and chats; its evaluation row and the export
        // say it was refined (the export carries both reports).
        QCOMPARE(summary["adapter"].toString(), QString("refined-adapter"));
        QVERIFY(summary["evaluation"].toObject()["corrected_refined"].toBool());
        QVERIFY(QFile::exists(out + "/export/peft-adapter/refine_report.json"));
        QVERIFY(QFile::exists(out + "/export/peft-adapter/correction_report.json"));
        QCOMPARE(QString::fromStdString(emloc::core::pipelineShippedAdapter(out.toStdString())),
                 out + "/refined-adapter");
        QVERIFY(QFile::exists(out + "/export/adapter.gguf"));
        QVERIFY(QFile::exists(out + "/train/metrics.jsonl"));
    }

    void secondRunReusesEverything()
    {
        auto run = runCli({"run", m_dir.filePath("run.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        const auto skipped = skippedStages(readJson(m_dir.filePath("out/summary.json")));
        QVERIFY(skipped["emulator"] && skipped["train"] && skipped["correct"] && skipped["refine"] &&
                skipped["evaluate"]);
        QVERIFY2(run.out.contains("(reused)"), qPrintable(describe(run)));
    }

    void changedClampRerunsOnlyStageThree()
    {
        writeConfig(0.0);
        auto run = runCli({"run", m_dir.filePath("run.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        const auto skipped = skippedStages(readJson(m_dir.filePath("out/summary.json")));
        QVERIFY(skipped["emulator"] && skipped["train"]);
        QVERIFY(!skipped["correct"] && !skipped["evaluate"]);
    }

    void badConfigurationFailsClearly()
    {
        QFile file(m_dir.filePath("bad.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"model": "model", "output": "out2", "data": {"train": "nowhere.jsonl"}})");
        file.close();
        auto run = runCli({"run", m_dir.filePath("bad.json")});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("nowhere.jsonl") && run.err.contains("data.train"),
                 qPrintable(describe(run)));
        QVERIFY(!QDir(m_dir.filePath("out2")).exists()); // nothing written for a run that cannot start
    }

    // No test file: the held-out share of the training data is evaluated, and the screen says so. With
    // refine_layers the refined adapter is the one evaluated and exported.
    void heldOutShareAndRefinedAdapter()
    {
        writeConfig(3.0, "share.json", "out3", [](nlohmann::json &config) {
            config["data"].erase("test");
            config["data"]["validation_fraction"] = 0.1;
            config["correct"]["refine_layers"] = 1;
            config["correct"]["refine_steps"] = 2;
        });
        auto run = runCli({"run", m_dir.filePath("share.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QVERIFY2(run.out.contains("held-out 10 %") && run.out.contains("3+ refine the last layers"),
                 qPrintable(describe(run)));
        const QString out = m_dir.filePath("out3");
        const QJsonObject summary = readJson(out + "/summary.json");
        QVERIFY(skippedStages(summary).contains("refine"));
        const QJsonObject evaluation = summary["evaluation"].toObject();
        QVERIFY2(evaluation["source"].toString().contains("examples not trained on"),
                 qPrintable(evaluation["source"].toString()));
        for (const auto &model : evaluation["models"].toArray())
            QVERIFY(model.toObject().contains("stop_rate"));
        const auto refined = emloc::core::readPeftAdapter((out + "/refined-adapter").toStdString());
        const auto exported = emloc::core::readPeftAdapter((out + "/export/peft-adapter").toStdString());
        QCOMPARE(exported.modules.size(), refined.modules.size());
        QVERIFY(torch::equal(exported.modules.back().b, refined.modules.back().b));

        // Neither a test file nor a held-out share: said, not silent.
        writeConfig(3.0, "none.json", "out4", [](nlohmann::json &config) {
            config["data"].erase("test");
            config["export"] = nlohmann::json::array();
        });
        run = runCli({"run", m_dir.filePath("none.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QVERIFY2((run.out + run.err).contains("the evaluation is skipped"), qPrintable(describe(run)));
    }

    // --device on the command line wins over the configuration's, --device cpu included: a configuration
    // written for a GPU runs on the CPU (here reusing the CPU run's stages), and fails without it.
    void deviceOnTheCommandLineWins()
    {
        writeConfig(0.0, "gpu.json", "out", [](nlohmann::json &config) { config["device"] = "cuda:7"; });
        const auto onGpu = runCli({"run", m_dir.filePath("gpu.json")});
        QVERIFY2(onGpu.exitCode == 1 && onGpu.err.contains("cuda:7") &&
                     !onGpu.err.contains("Stage 'emulator'"),
                 qPrintable(describe(onGpu)));
        const auto onCpu = runCli({"--device", "cpu", "run", m_dir.filePath("gpu.json")});
        QVERIFY2(onCpu.exitCode == 0, qPrintable(describe(onCpu)));
        const auto skipped = skippedStages(readJson(m_dir.filePath("out/summary.json")));
        QVERIFY(skipped["emulator"] && skipped["train"] && skipped["correct"] && skipped["evaluate"]);
    }

    // One budget, one ratio: `emloc run`, `emloc build-emulator --budget-gb` and `emloc plan` decide it with
    // the same function and the same (default) training settings. build-emulator planned stage 2 with
    // its own defaults and found nothing fitting a budget that run and plan filled at ratio ~0.5.
    void budgetIsOneDecision()
    {
        const QString model = m_dir.filePath("model");
        const QStringList shape{"--max-length", "128", "--calibration-samples", "16"};
        auto peakAt = [&](const char *ratio) {
            const auto plan = runCli(QStringList{"--json", "plan", model, "--ratio", ratio} + shape);
            return QJsonDocument::fromJson(plan.out).object()["peak_bytes"].toDouble();
        };
        const double low = peakAt("0.1"), high = peakAt("1.0");
        QVERIFY2(low > 0 && high > low, qPrintable(QString("%1 %2").arg(low).arg(high)));
        const QString budget = QString::number((low + high) / 2 / double(1 << 30), 'f', 6);

        const auto plan = runCli(QStringList{"--json", "plan", model, "--budget-gb", budget} + shape);
        QVERIFY2(plan.exitCode == 0, qPrintable(describe(plan)));
        const double planned = QJsonDocument::fromJson(plan.out).object()["ratio"].toDouble();
        QVERIFY2(planned > 0.1 && planned < 1.0, qPrintable(QString::number(planned)));

        const QString train = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        const auto build = runCli(QStringList{"--json", "build-emulator", model, "--data", train, "--out",
                                              m_dir.filePath("budget-emulator"), "--budget-gb", budget} +
                                  shape);
        QVERIFY2(build.exitCode == 0, qPrintable(describe(build)));
        QCOMPARE(QJsonDocument::fromJson(build.out).object()["ratio"].toDouble(), planned);

        QFile config(m_dir.filePath("budget.json"));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(QByteArray::fromStdString(nlohmann::json{
            {"model", "model"},
            {"output", "budget-run"},
            {"data", {{"train", train.toStdString()}, {"max_length", 128}}},
            {"emulator", {{"budget_gb", budget.toDouble()}, {"calibration_samples", 16}}},
            {"train", {{"steps", 1}}}}.dump()));
        config.close();
        const auto run = runCli({"run", config.fileName()});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QCOMPARE(readJson(m_dir.filePath("budget-run/summary.json"))["ratio"].toDouble(), planned);
    }

    // Refinement holds the whole original model, so its peak does not shrink with the ratio: a budget the
    // EMLoC stages fit but refinement does not skips it, says so, and ships the corrected adapter.
    void refinementOverTheBudgetIsSkippedAndSaid()
    {
        const QString model = m_dir.filePath("model");
        const QStringList shape{"--max-length", "128", "--calibration-samples", "16", "--batch", "2"};
        const auto plan = runCli(QStringList{"--json", "plan", model, "--ratio", "0.1"} + shape);
        QVERIFY2(plan.exitCode == 0, qPrintable(describe(plan)));
        const QJsonObject planned = QJsonDocument::fromJson(plan.out).object();
        const double refinement = planned["refinement"].toObject()["total_bytes"].toDouble();
        const double lowest = planned["peak_bytes"].toDouble();
        // The test model is tiny: the two differ by its weights, under a megabyte.
        QVERIFY2(refinement > lowest + (64 << 10), qPrintable(QString("%1 %2").arg(refinement).arg(lowest)));
        const double budget = (refinement + lowest) / 2 / double(1 << 30);

        writeConfig(3.0, "tight.json", "tight", [&](nlohmann::json &config) {
            config["emulator"] = {{"budget_gb", budget}, {"calibration_samples", 16}};
            config["train"]["batch"] = 2;
            config["evaluate"]["max_examples"] = 2;
            config["export"] = {"peft"};
        });
        const auto run = runCli({"run", m_dir.filePath("tight.json")});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        const QString said = run.out + run.err;
        QVERIFY2(said.contains("Refining the last 4 decoder layers needs") && said.contains("skipped"),
                 qPrintable(describe(run)));
        const QString out = m_dir.filePath("tight");
        QVERIFY(!skippedStages(readJson(out + "/summary.json")).contains("refine"));
        QVERIFY(!QDir(out + "/refined-adapter").exists());
        const auto corrected = emloc::core::readPeftAdapter((out + "/corrected-adapter").toStdString());
        const auto exported = emloc::core::readPeftAdapter((out + "/export/peft-adapter").toStdString());
        QVERIFY(torch::equal(exported.modules.front().b, corrected.modules.front().b));
        QCOMPARE(QString::fromStdString(emloc::core::pipelineShippedAdapter(out.toStdString())),
                 out + "/corrected-adapter");
        // The evaluation's row is the corrected adapter, named so.
        QVERIFY(!readJson(out + "/summary.json")["evaluation"].toObject()["corrected_refined"].toBool());
        QVERIFY2(run.out.contains("original + LoRA, corrected (EMLoC)"), qPrintable(describe(run)));
    }

private:
    void writeConfig(double clamp, const QString &name = "run.json", const std::string &output = "out",
                     const std::function<void(nlohmann::json &)> &change = {})
    {
        const QString demo = emloc::test::sourceDir() + "/resources/demo/";
        nlohmann::json config = {
            {"model", "model"},
            {"output", output},
            {"data",
             {{"train", (demo + "bookings-train.jsonl").toStdString()},
              {"test", (demo + "bookings-test.jsonl").toStdString()},
              {"max_length", 128}}},
            {"emulator", {{"ratio", 0.5}, {"calibration_samples", 16}}},
            {"train",
             {{"steps", 4}, {"batch", 2}, {"grad_accum", 1}, {"lr", 0.003}, {"lora", {{"rank", 4}}}}},
            {"correct", {{"clamp", clamp}, {"refine_steps", 2}}},
            {"evaluate", {{"max_examples", 6}, {"max_new_tokens", 12}}},
            {"export", {"peft", "gguf-lora"}}};
        if (change)
            change(config);
        QFile file(m_dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromStdString(config.dump(2)));
    }

    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestPipelineRun)
#include "test_pipeline_run.moc"
