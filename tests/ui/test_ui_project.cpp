// Project files: JSON round trips, relative paths, clear errors, and the window's Save/Open.
#include "main_window.h"

#include "gui_test_support.h"
#include "pages/budget_page.h"
#include "project/project.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace emloc::ui;
using namespace emloc::ui::testing;

namespace {

Project customProject(const QString &base)
{
    Project p;
    p.modelPath = base + QStringLiteral("/models/llama");
    p.data.trainingPath = base + QStringLiteral("/data/train.jsonl");
    p.data.validationPath = QStringLiteral("/elsewhere/valid.jsonl");
    p.data.validationFraction = 0.1;
    p.budget.device = QStringLiteral("cuda:1");
    p.budget.mode = BudgetSettings::Mode::MemoryBudget;
    p.budget.budgetGiB = 11.5;
    p.budget.ratio = 0.35;
    p.budget.calibrationSamples = 128;
    TrainingSettings &t = p.training;
    t.loraRank = 16;
    t.loraAlpha = 32;
    t.loraDropout = 0.1;
    t.targetModules = {QStringLiteral("q_proj"), QStringLiteral("v_proj")};
    t.learningRate = 4e-5;
    t.batchSize = 1;
    t.gradientAccumulation = 8;
    t.steps = 1234;
    t.epochs = 2.5;
    t.warmupFraction = 0.05;
    t.weightDecay = 0.02;
    t.maxLength = 1024;
    t.evaluationInterval = 20;
    t.gradientCheckpointing = false;
    t.seed = 7;
    p.exportSettings.outputFolder = base + QStringLiteral("/out");
    p.exportSettings.peftAdapter = false;
    p.exportSettings.mergedModel = true;
    p.exportSettings.ggufAdapter = true;
    p.advanced = QJsonObject{{"train", QJsonObject{{"schedule", "linear"}}},
                             {"evaluate", QJsonObject{{"metric", "contains"}, {"max_new_tokens", 48}}}};
    return p;
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

void writeText(const QString &path, const QByteArray &text)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

} // namespace

class TestProject : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { initializeGuiTest(); }

    void roundTripKeepsEveryField()
    {
        QTemporaryDir dir;
        const Project original = customProject(dir.path());
        QVERIFY(original != Project());
        const QString path = dir.filePath("project.emloc");
        QString error;
        QVERIFY2(original.save(path, &error), qPrintable(error));
        const std::optional<Project> loaded = Project::load(path, &error);
        QVERIFY2(loaded, qPrintable(error));
        QVERIFY(*loaded == original);

        // The file embeds the run configuration in core's keys (the pages' fields and the advanced
        // settings in one document); paths inside the project's folder are stored relative to it.
        const QJsonObject json = readJson(path);
        QCOMPARE(json.value("format").toString(), QString::fromLatin1(kProjectFormat));
        QCOMPARE(json.value("version").toInt(), 2);
        const QJsonObject run = json.value("run").toObject();
        QCOMPARE(run.value("model").toString(), QStringLiteral("models/llama"));
        QCOMPARE(run.value("data").toObject().value("train").toString(), QStringLiteral("data/train.jsonl"));
        QCOMPARE(run.value("data").toObject().value("test").toString(),
                 QStringLiteral("/elsewhere/valid.jsonl"));
        QCOMPARE(run.value("emulator").toObject().value("budget_gb").toDouble(), 11.5);
        const QJsonObject train = run.value("train").toObject();
        QCOMPARE(train.value("lr").toDouble(), 4e-5);
        QCOMPARE(train.value("schedule").toString(), QStringLiteral("linear")); // an advanced setting
        QCOMPARE(train.value("lora").toObject().value("rank").toInt(), 16);
        QCOMPARE(run.value("export").toArray(), (QJsonArray{"gguf-lora", "merged"}));
        QCOMPARE(run.value("evaluate").toObject().value("metric").toString(), QStringLiteral("contains"));
        QVERIFY(!json.contains("studio")); // a memory budget: the run holds it

        // With the ratio deciding, the budget typed on the Budget page is the window's to keep.
        Project byRatio = original;
        byRatio.budget.mode = BudgetSettings::Mode::Ratio;
        QVERIFY2(byRatio.save(path, &error), qPrintable(error));
        QCOMPARE(
            readJson(path).value("run").toObject().value("emulator").toObject().value("budget_gb").toDouble(),
            0.0);
        QCOMPARE(readJson(path).value("studio").toObject().value("budgetGiB").toDouble(), 11.5);
        QVERIFY(*Project::load(path, &error) == byRatio);
    }

    void projectFolderCanMove()
    {
        QTemporaryDir first;
        QTemporaryDir second;
        const Project original = customProject(first.path());
        QString error;
        QVERIFY(original.save(first.filePath("p.emloc"), &error));
        QVERIFY(QFile::copy(first.filePath("p.emloc"), second.filePath("p.emloc")));
        const std::optional<Project> moved = Project::load(second.filePath("p.emloc"), &error);
        QVERIFY(moved);
        QCOMPARE(moved->modelPath, QDir(second.path()).filePath("models/llama"));
        QCOMPARE(moved->data.validationPath, QStringLiteral("/elsewhere/valid.jsonl"));
    }

    // core's defaults (emloc/api/run_defaults.h): a project that sets nothing runs as `emloc run` would.
    void defaultsAreCores()
    {
        const Project p;
        QCOMPARE(p.training.loraRank, 8);
        QCOMPARE(p.training.loraAlpha, 16.0);
        QCOMPARE(p.training.loraDropout, 0.05);
        QCOMPARE(p.training.learningRate, 1e-4);
        QCOMPARE(p.training.steps, 0);
        QCOMPARE(p.training.epochs, 1.0);
        QCOMPARE(p.training.evaluationInterval, 0);
        QCOMPARE(p.data.validationFraction, 0.0);
        QVERIFY(p.advanced.isEmpty());
        QCOMPARE(p.training.batchSize, 2);
        QCOMPARE(p.training.gradientAccumulation, 4);
        QCOMPARE(p.training.warmupFraction, 0.03);
        QCOMPARE(p.training.weightDecay, 0.01);
        QCOMPARE(p.training.maxLength, 512);
        QCOMPARE(p.budget.calibrationSamples, 64);
        QCOMPARE(p.budget.ratio, 0.4);
        QCOMPARE(p.training.targetModules.size(), 7);
    }

    void missingFieldsKeepDefaults()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("minimal.emloc");
        Project expected;
        expected.training.loraRank = 4;
        for (const char *content :
             {R"({"format":"emloc-studio-project","version":1,"training":{"loraRank":4}})",
              R"({"format":"emloc-studio-project","version":2,"run":{"train":{"lora":{"rank":4}}}})"}) {
            writeText(path, content);
            QString error;
            const std::optional<Project> loaded = Project::load(path, &error);
            QVERIFY2(loaded, qPrintable(error));
            QVERIFY2(*loaded == expected, content);
        }
    }

    // A project the Studio saved before the run's defaults came from core (no epochs, no advanced
    // settings, its own defaults written out) opens with the values it holds.
    void projectFromAnEarlierStudioOpens()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("earlier.emloc");
        writeText(path, R"({"format": "emloc-studio-project", "version": 1,
            "model": {"path": "m"}, "data": {"training": "t.jsonl", "validation": "", "validationFraction": 0.05},
            "budget": {"device": "", "mode": "ratio", "budgetGiB": 8, "ratio": 0.4, "calibrationSamples": 64},
            "training": {"loraRank": 8, "loraAlpha": 16, "loraDropout": 0.05, "targetModules": ["q_proj"],
                         "learningRate": 0.0002, "batchSize": 2, "gradientAccumulation": 4, "steps": 500,
                         "warmupFraction": 0.03, "weightDecay": 0.01, "maxLength": 512,
                         "evaluationInterval": 50, "gradientCheckpointing": true, "seed": 42},
            "export": {"outputFolder": "", "peftAdapter": true, "mergedModel": false, "ggufAdapter": false}})");
        QString error;
        const std::optional<Project> loaded = Project::load(path, &error);
        QVERIFY2(loaded, qPrintable(error));
        QCOMPARE(loaded->modelPath, dir.filePath("m"));
        QCOMPARE(loaded->training.learningRate, 2e-4);
        QCOMPARE(loaded->training.steps, 500); // the steps decide; epochs stays at its default
        QCOMPARE(loaded->training.evaluationInterval, 50);
        QCOMPARE(loaded->data.validationFraction, 0.05);
        QCOMPARE(loaded->training.targetModules, QStringList{QStringLiteral("q_proj")});
        QVERIFY(loaded->advanced.isEmpty());
    }

    void errorsSayWhatAndWhere_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("invalid JSON")
            << QByteArray("{\n\"format\": \"emloc-studio-project\",\n\"version\": 1,,\n}")
            << QStringLiteral("on line 3");
        QTest::newRow("not an object") << QByteArray("[1, 2]") << QStringLiteral("JSON object");
        QTest::newRow("other format") << QByteArray(R"({"format":"something","version":1})")
                                      << QStringLiteral("not an EMLoC Studio project");
        QTest::newRow("newer version") << QByteArray(R"({"format":"emloc-studio-project","version":99})")
                                       << QStringLiteral("newer EMLoC Studio");
        QTest::newRow("wrong type") << QByteArray(R"({"format":"emloc-studio-project","version":1,
                                                      "training":{"loraRank":"eight"}})")
                                    << QStringLiteral("\"training.loraRank\" must be a whole number");
        QTest::newRow("fraction for int") << QByteArray(R"({"format":"emloc-studio-project","version":1,
                                                            "budget":{"calibrationSamples":6.5}})")
                                          << QStringLiteral("\"budget.calibrationSamples\"");
        QTest::newRow("bad mode") << QByteArray(R"({"format":"emloc-studio-project","version":1,
                                                    "budget":{"mode":"fast"}})")
                                  << QStringLiteral("\"budget.mode\" must be \"memory\" or \"ratio\"");
        QTest::newRow("run: wrong type") << QByteArray(R"({"format":"emloc-studio-project","version":2,
                                                           "run":{"train":{"lora":{"rank":"eight"}}}})")
                                         << QStringLiteral("\"run.train.lora.rank\" must be a whole number");
        QTest::newRow("run: list for text") << QByteArray(R"({"format":"emloc-studio-project","version":2,
                                                              "run":{"data":{"train":[1]}}})")
                                            << QStringLiteral("\"run.data.train\" must be a text");
        QTest::newRow("run not an object")
            << QByteArray(R"({"format":"emloc-studio-project","version":2,
                                                             "run":"cfg.json"})")
            << QStringLiteral("\"run\" (the run configuration) must be an object");
        QTest::newRow("advanced not an object") << QByteArray(R"({"format":"emloc-studio-project","version":1,
                                                                  "advanced":[1]})")
                                                << QStringLiteral("\"advanced\" must be an object");
    }

    void errorsSayWhatAndWhere()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath("bad.emloc");
        writeText(path, content);
        QString error;
        QVERIFY(!Project::load(path, &error));
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY2(error.contains(path), qPrintable(error));
    }

    void saveFailureIsReportedAndKeepsTheOldFile()
    {
        QString error;
        QVERIFY(!Project().save(QStringLiteral("/nonexistent-folder/x/p.emloc"), &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent-folder/x/p.emloc")), qPrintable(error));
        QVERIFY(!Project::load(QStringLiteral("/nonexistent-folder/x/p.emloc"), &error));
    }

    void windowSavesAndOpens()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("window.emloc");
        Project saved;
        {
            MainWindow window;
            window.setProject(customProject(dir.path()));
            QVERIFY(!window.isWindowModified());
            window.budgetPage()->findChild<QSpinBox *>("loraRank")->setValue(24);
            QVERIFY(window.isWindowModified());
            QVERIFY(window.saveProjectAs(path));
            QVERIFY(!window.isWindowModified());
            QVERIFY(window.windowTitle().startsWith(QStringLiteral("window[*]")));
            QCOMPARE(window.recentProjects().value(0), QFileInfo(path).absoluteFilePath());
            saved = window.currentProject();
            QCOMPARE(saved.training.loraRank, 24);
            QCOMPARE(saved.budget.budgetGiB, 11.5);
            QCOMPARE(saved.training.learningRate, 4e-5);
        }
        MainWindow reopened;
        QVERIFY(reopened.openProject(path));
        QVERIFY(reopened.currentProject() == saved);
        QCOMPARE(reopened.projectPath(), QFileInfo(path).absoluteFilePath());
        QVERIFY(!reopened.isWindowModified());

        // A broken file shows an error dialog and leaves the window as it was.
        writeText(dir.filePath("broken.emloc"), "{");
        auto text = std::make_shared<QString>();
        auto seen = answerNextMessageBox(QStringLiteral("errorDialog"), QMessageBox::Ok, text);
        QVERIFY(!reopened.openProject(dir.filePath("broken.emloc")));
        QVERIFY(*seen);
        QVERIFY2(text->contains(QStringLiteral("broken.emloc")), qPrintable(*text));
        QVERIFY(reopened.currentProject() == saved);
    }
};

QTEST_MAIN(TestProject)
#include "test_ui_project.moc"
