// The pipeline's configuration file: defaults, relative paths, and an error naming the key for every
// kind of mistake a person makes when writing one by hand.
#include "emloc/api/error.h"
#include "emloc/stages/pipeline.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using emloc::core::PipelineConfig;
using nlohmann::json;

namespace {
PipelineConfig parse(const json &document)
{
    return emloc::core::pipelineConfigFromJson(document, "run.json", "/projects/demo");
}

json minimal()
{
    return {{"model", "model.gguf"}, {"output", "out"}, {"data", {{"train", "train.jsonl"}}}};
}

// The Error's message for `document`, or "" when it parsed.
QString errorOf(const json &document)
{
    try {
        parse(document);
    } catch (const emloc::core::Error &e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
} // namespace

class TestPipelineConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaultsAndRelativePaths()
    {
        json document = minimal();
        document["data"]["test"] = "/abs/test.jsonl";
        const PipelineConfig config = parse(document);
        QCOMPARE(QString::fromStdString(config.model), QString("/projects/demo/model.gguf"));
        QCOMPARE(QString::fromStdString(config.outputDir), QString("/projects/demo/out"));
        QCOMPARE(QString::fromStdString(config.trainData), QString("/projects/demo/train.jsonl"));
        QCOMPARE(QString::fromStdString(config.testData), QString("/abs/test.jsonl"));
        QCOMPARE(config.emulator.ratio, 0.4); // the paper's setting
        QCOMPARE(config.clampLimit, 3.0);
        QCOMPARE(config.refine.layers, int64_t(4)); // refinement of the last 4 layers unless told not to
        QVERIFY(config.evaluation.metric == emloc::core::MatchMetric::Exact);
        QCOMPARE(config.train.lora.rank, int64_t(8));
        QCOMPARE(config.train.lora.targets.size(), size_t(7));
        QCOMPARE(config.exports.size(), size_t(1));
        QCOMPARE(config.budgetBytes, int64_t(0));
    }

    // A PipelineConfig built in code (the Studio's) refines exactly as a file that says nothing does.
    // They once disagreed (2 layers in code, off in a file), so Studio runs refined and files did not.
    void defaultConfigMatchesTheFileDefaults()
    {
        const PipelineConfig fromFile = parse(minimal());
        const PipelineConfig inCode;
        QCOMPARE(inCode.refine.layers, emloc::core::pipelineRefineDefaults().layers);
        QCOMPARE(inCode.refine.layers, fromFile.refine.layers);
        QCOMPARE(inCode.refine.train.steps, fromFile.refine.train.steps);
        QCOMPARE(inCode.refine.train.learningRate, fromFile.refine.train.learningRate);
        QCOMPARE(inCode.clampLimit, fromFile.clampLimit);
    }

    // One schema: every setting a file leaves out takes the value of a PipelineConfig built in code (the
    // Studio's), compared through the writer so that a new setting is covered without touching this test.
    void everyFileDefaultIsTheStructDefault()
    {
        PipelineConfig inCode;
        inCode.model = "model.gguf";
        inCode.outputDir = "out";
        inCode.trainData = "train.jsonl";
        const PipelineConfig fromFile = emloc::core::pipelineConfigFromJson(minimal(), "minimal.json", "");
        const json differences = json::diff(inCode.toJson(), fromFile.toJson());
        QVERIFY2(differences.empty(), differences.dump().c_str());
    }

    void settingsAreRead()
    {
        json document = minimal();
        document["emulator"] = {
            {"ratio", 0.3}, {"budget_gb", 2.5}, {"plain_svd", true}, {"overrides", {"down_proj=dense"}}};
        document["train"] = {{"steps", 7},
                             {"lr", 0.001},
                             {"schedule", "linear"},
                             {"lora", {{"rank", 4}, {"alpha", 8}, {"targets", {"q", "v"}}}}};
        document["correct"] = {
            {"clamp", 0}, {"refine_layers", 2}, {"refine_steps", 12}, {"refine_lr", 0.002}};
        document["evaluate"] = {{"metric", "contains"}, {"max_new_tokens", 12}};
        document["export"] = {"gguf-lora", "merged"};
        const PipelineConfig config = parse(document);
        QCOMPARE(config.emulator.ratio, 0.3);
        QCOMPARE(config.budgetBytes, int64_t(2.5 * (1 << 30)));
        QVERIFY(config.emulator.plainSvd);
        QCOMPARE(config.emulator.overrides.size(), size_t(1));
        QCOMPARE(config.train.steps, int64_t(7));
        QCOMPARE(config.train.lora.rank, int64_t(4));
        QCOMPARE(config.train.lora.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
        QCOMPARE(config.clampLimit, 0.0);
        QCOMPARE(config.refine.layers, int64_t(2));
        QCOMPARE(config.refine.train.steps, int64_t(12));
        QCOMPARE(config.refine.train.learningRate, 0.002);
        QVERIFY(config.evaluation.metric == emloc::core::MatchMetric::Contains);
        QCOMPARE(config.exports.size(), size_t(2));
        // What the run writes beside its outputs reads back to the same settings.
        const PipelineConfig again = emloc::core::pipelineConfigFromJson(config.toJson(), "copy", "");
        QCOMPARE(again.toJson().dump(), config.toJson().dump());
    }

    void mistakesNameTheKey_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown key") << R"({"emulator": {"ratoi": 0.4}})"
                                     << "'emulator.ratoi' is not a known setting";
        QTest::newRow("wrong type") << R"({"train": {"steps": "ten"}})"
                                    << "'train.steps' must be a whole number";
        QTest::newRow("ratio range") << R"({"emulator": {"ratio": 1.5}})"
                                     << "'emulator.ratio' must be between";
        QTest::newRow("bad export") << R"({"export": ["onnx"]})"
                                    << "'export'";
        QTest::newRow("bad metric") << R"({"evaluate": {"metric": "bleu"}})"
                                    << "'evaluate.metric' must be one of";
        QTest::newRow("bad override") << R"({"emulator": {"overrides": ["down_proj"]}})"
                                      << "'emulator.overrides'";
        QTest::newRow("no model") << R"({"model": null})"
                                  << "'model' is required";
        QTest::newRow("section type") << R"({"train": 3})"
                                      << "'train' must be a JSON object";
        QTest::newRow("refine steps") << R"({"correct": {"refine_steps": 0}})"
                                      << "'correct.refine_steps' must be between";
        QTest::newRow("lora target") << R"({"train": {"lora": {"targets": []}}})"
                                     << "'train.lora.targets'";
    }

    void mistakesNameTheKey()
    {
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        json document = minimal();
        document.merge_patch(json::parse(patch.toStdString()));
        if (document.contains("model") && document["model"].is_null())
            document.erase("model");
        const QString message = errorOf(document);
        QVERIFY2(message.startsWith("run.json: "), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    // --output: a configuration without "output" (the installed demo's) runs into a folder given on the
    // command line, taken relative to the working folder, not to the configuration's.
    void outputOverride()
    {
        json document = minimal();
        document.erase("output");
        QVERIFY(errorOf(document).contains("'output' is required"));
        const PipelineConfig config =
            emloc::core::pipelineConfigFromJson(document, "run.json", "/projects/demo", "runs/mine");
        QCOMPARE(QString::fromStdString(config.outputDir), QDir::current().filePath("runs/mine"));
        QCOMPARE(QString::fromStdString(config.model), QString("/projects/demo/model.gguf"));
        const PipelineConfig replaced =
            emloc::core::pipelineConfigFromJson(minimal(), "run.json", "/projects/demo", "/tmp/elsewhere");
        QCOMPARE(QString::fromStdString(replaced.outputDir), QString("/tmp/elsewhere"));
    }

    void fileErrors()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("broken.json").toStdString();
        std::ofstream(path) << "{\"model\": \"m\",\n \"output\": }";
        try {
            emloc::core::loadPipelineConfig(path);
            QFAIL("a malformed file must be an Error");
        } catch (const emloc::core::Error &e) {
            QVERIFY2(QString(e.what()).contains("broken.json: not valid JSON"), e.what());
        }
        try {
            emloc::core::loadPipelineConfig(dir.filePath("missing.json").toStdString());
            QFAIL("a missing file must be an Error");
        } catch (const emloc::core::Error &e) {
            QVERIFY2(QString(e.what()).contains("missing.json"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestPipelineConfig)
#include "test_pipeline_config.moc"
