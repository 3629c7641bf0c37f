// A Studio project as the engine's run configuration and back (app/gui/engine_project.cpp): the Studio's
// demo is the demo configuration `scripts/demo.sh` runs, every setting of a run survives a project saved
// and opened again, a project that sets nothing runs with core's defaults, and the engine's reader names
// a bad advanced setting.
#include "engine_project.h"
#include "test_support.h"

#include "emloc/api/error.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

using namespace emloc;
using emloc::ui::Project;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(bytes);
}

// A run that changes every setting core has from its default (checked below, so a setting added to core
// without a way through the Studio fails here).
const char *kEverySetting = R"({
  "model": "/models/m", "output": "/runs/r", "device": "cuda:1",
  "data": {"train": "/data/t.jsonl", "test": "/data/e.jsonl", "format": "sharegpt", "template": "chatml",
           "system": "Answer briefly.", "max_length": 384, "validation_fraction": 0.1},
  "emulator": {"ratio": 0.3, "vision_ratio": 0.4, "budget_gb": 3.5, "calibration_samples": 32, "seed": 5,
               "plain_svd": true, "allocate_ranks": true, "gram_float64": true, "keep_last_down_proj_dense": false,
               "overrides": ["layers.0.*=dense"]},
  "train": {"steps": 40, "epochs": 2.5, "batch": 3, "grad_accum": 2, "lr": 0.0003, "schedule": "linear",
            "warmup_ratio": 0.1, "weight_decay": 0.02, "max_grad_norm": 0.5, "packing": true, "eval_every": 7,
            "early_stopping": 3, "checkpoint_every": 9, "seed": 11, "gradient_checkpointing": false,
            "lora": {"rank": 4, "alpha": 8, "dropout": 0.1, "rslora": true, "targets": ["q_proj", "v_proj"]}},
  "correct": {"clamp": 2, "refine_layers": 2, "refine_steps": 5, "refine_lr": 0.0005},
  "evaluate": {"metric": "contains", "generation": false, "max_new_tokens": 48, "max_examples": 10,
               "batch": 2, "generation_batch": 4},
  "export": ["peft", "gguf-lora", "merged"]
})";

} // namespace

class TestUiEngineProject : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The Studio opens the demo from demo-run.json itself, writing into runs/demo as scripts/demo.sh
    // does, so the Studio shows the script's run and runs exactly what it ran.
    void demoIsTheDemoConfiguration()
    {
        const QString demo = test::sourceDir() + QStringLiteral("/resources/demo/");
        QTemporaryDir tree; // a build tree with the files the demo needs
        QVERIFY(QDir().mkpath(tree.filePath(".cache/models/SmolLM2-135M-Instruct")));
        QVERIFY(QDir().mkpath(tree.filePath("resources/demo")));
        writeFile(tree.filePath(".cache/models/SmolLM2-135M-Instruct/model.safetensors"), "");
        for (const char *name : {"demo-run.json", "bookings-train.jsonl", "bookings-test.jsonl"})
            QVERIFY(QFile::copy(demo + name, tree.filePath(QStringLiteral("resources/demo/") + name)));

        const std::optional<Project> project = gui::demoProject(tree.path());
        QVERIFY(project.has_value());
        QCOMPARE(project->runFolder(), QDir::cleanPath(tree.filePath("runs/demo")));
        const core::PipelineConfig script =
            core::loadPipelineConfig(tree.filePath("resources/demo/demo-run.json").toStdString());
        QCOMPARE(gui::pipelineConfig(*project).toJson().dump(2), script.toJson().dump(2));

        QVERIFY(QFile::remove(tree.filePath(".cache/models/SmolLM2-135M-Instruct/model.safetensors")));
        QVERIFY(!gui::demoProject(tree.path()).has_value()); // setup.sh has not fetched the model
    }

    // Every setting of a run reaches the Studio (the pages' fields, the rest as advanced settings), is
    // saved in the project file and runs as the configuration file would.
    void everySettingSurvivesTheStudio()
    {
        const nlohmann::json every = nlohmann::json::parse(kEverySetting);
        const std::vector<std::string> keys = gui::settingKeys(every);
        const std::vector<std::string> defaultKeys = gui::settingKeys(core::PipelineConfig().toJson());
        for (const std::string &key : defaultKeys)
            QVERIFY2(std::find(keys.begin(), keys.end(), key) != keys.end(),
                     qPrintable(QString::fromStdString("the test does not set " + key)));
        const core::PipelineConfig config = core::pipelineConfigFromJson(every, "test", "");
        const nlohmann::json defaults = core::PipelineConfig().toJson();
        const nlohmann::json document = config.toJson();
        for (const std::string &key : defaultKeys) {
            std::string path = "/" + key;
            std::replace(path.begin(), path.end(), '.', '/');
            const nlohmann::json::json_pointer at(path);
            QVERIFY2(document.at(at) != defaults.at(at),
                     qPrintable(QString::fromStdString(key + " is a default")));
        }

        const Project project = gui::projectFor(config);
        QVERIFY(!project.advanced.isEmpty());
        QCOMPARE(project.advanced["train"].toObject()["schedule"].toString(), QStringLiteral("linear"));
        QTemporaryDir dir;
        QString error;
        QVERIFY2(project.save(dir.filePath("every.emloc"), &error), qPrintable(error));
        const std::optional<Project> opened = Project::load(dir.filePath("every.emloc"), &error);
        QVERIFY2(opened, qPrintable(error));
        QVERIFY(*opened == project);
        QCOMPARE(gui::pipelineConfig(*opened).toJson().dump(2), document.dump(2));

        // The project file embeds the run itself: its "run" object, read by core's reader as a
        // configuration file beside the project would be, is the run the Studio starts.
        QFile file(dir.filePath("every.emloc"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const nlohmann::json saved = nlohmann::json::parse(file.readAll().toStdString());
        QCOMPARE(saved.at("version").get<int>(), 2);
        QCOMPARE(core::pipelineConfigFromJson(saved.at("run"), "every.emloc", dir.path().toStdString())
                     .toJson()
                     .dump(2),
                 document.dump(2));
    }

    // File > Export Run Configuration…: `emloc run` reads back the run the Studio would start (same
    // configuration, so the same stage fingerprints and the same outputs).
    void exportedConfigurationRunsTheSameRun()
    {
        const Project project =
            gui::projectFor(core::pipelineConfigFromJson(nlohmann::json::parse(kEverySetting), "test", ""));
        QTemporaryDir dir;
        const QString path = dir.filePath("run.json");
        gui::writeRunConfiguration(project, path);
        QCOMPARE(core::loadPipelineConfig(path.toStdString()).toJson().dump(2),
                 gui::pipelineConfig(project).toJson().dump(2));

        Project bad = project;
        bad.advanced = QJsonObject{{"train", QJsonObject{{"schedule", "wavy"}}}};
        QVERIFY_THROWS_EXCEPTION(core::Error, gui::writeRunConfiguration(bad, dir.filePath("bad.json")));
        QVERIFY(!QFile::exists(dir.filePath("bad.json"))); // nothing half-written
        QVERIFY_THROWS_EXCEPTION(core::Error,
                                 gui::writeRunConfiguration(project, dir.filePath("no/such/run.json")));
    }

    // A project that sets nothing runs with core's defaults: the Studio has none of its own.
    void anEmptyProjectRunsCoresDefaults()
    {
        Project project;
        project.modelPath = QStringLiteral("/models/m");
        project.data.trainingPath = QStringLiteral("/data/t.jsonl");
        project.exportSettings.outputFolder = QStringLiteral("/runs/r");
        project.budget.device = QStringLiteral("cpu");
        core::PipelineConfig expected;
        expected.model = "/models/m";
        expected.trainData = "/data/t.jsonl";
        expected.outputDir = "/runs/r";
        QCOMPARE(gui::pipelineConfig(project).toJson().dump(2), expected.toJson().dump(2));
    }

    // The engine's reader checks the advanced settings and names the key at fault; a key a page sets is
    // refused there rather than silently overridden.
    void badAdvancedSettingsAreNamed_data()
    {
        QTest::addColumn<QByteArray>("advanced");
        QTest::addColumn<QString>("expected");
        QTest::newRow("page key") << QByteArray(R"({"train": {"lr": 0.1}})")
                                  << QStringLiteral("'train.lr' is set on the Studio's pages");
        QTest::newRow("bad choice") << QByteArray(R"({"train": {"schedule": "wavy"}})")
                                    << QStringLiteral("'train.schedule' must be one of");
        QTest::newRow("out of range") << QByteArray(R"({"correct": {"clamp": -1}})")
                                      << QStringLiteral("'correct.clamp' must be between");
        QTest::newRow("misspelt") << QByteArray(R"({"evaluate": {"metrik": "exact"}})")
                                  << QStringLiteral("'evaluate.metrik' is not a known setting");
        QTest::newRow("section not an object")
            << QByteArray(R"({"train": 5})") << QStringLiteral("'train' must be a JSON object");
        QTest::newRow("wrong type") << QByteArray(R"({"evaluate": {"generation": "no"}})")
                                    << QStringLiteral("'evaluate.generation' must be true or false");
    }

    void badAdvancedSettingsAreNamed()
    {
        QFETCH(QByteArray, advanced);
        QFETCH(QString, expected);
        Project project;
        project.advanced = QJsonDocument::fromJson(advanced).object();
        QVERIFY(!project.advanced.isEmpty());
        try {
            gui::pipelineConfig(project, core::RunPaths::Optional);
            QFAIL("the setting was accepted");
        } catch (const core::Error &error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(expected), qPrintable(message));
            QVERIFY2(message.contains(QStringLiteral("advanced settings")), qPrintable(message));
        }
    }

    // The preview reads a project before its files are chosen; a run needs them.
    void aRunNeedsItsFiles()
    {
        Project project;
        project.exportSettings.outputFolder = QStringLiteral("/runs/r");
        QCOMPARE(gui::pipelineConfig(project, core::RunPaths::Optional).train.learningRate, 1e-4);
        QVERIFY_THROWS_EXCEPTION(core::Error, gui::pipelineConfig(project));
    }
};

QTEST_GUILESS_MAIN(TestUiEngineProject)
#include "test_ui_engine_project.moc"
