// The run folder as the front ends read it: the stage vocabulary every file and screen shares, and the
// summary a finished run leaves (read back exactly as written; a damaged one named, never half-read).
#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/api/stages.h"
#include "emloc/stages/pipeline.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <set>

using emloc::core::Stage;
namespace core = emloc::core;

namespace {
constexpr Stage kAllStages[] = {Stage::Emulator,       Stage::Calibrate, Stage::Build,   Stage::Write,
                                Stage::Train,          Stage::Validate,  Stage::Correct, Stage::Refine,
                                Stage::RefineValidate, Stage::Evaluate,  Stage::Export};

core::PipelineResult finishedRun()
{
    core::PipelineResult result;
    result.ratio = 0.4;
    result.inferencePeakBytes = 1205 << 20;
    for (Stage stage : {Stage::Emulator, Stage::Train, Stage::Correct, Stage::Refine, Stage::Evaluate}) {
        core::StageReport report;
        report.stage = stage;
        report.skipped = stage == Stage::Emulator;
        report.seconds = 10.5 + double(static_cast<int>(stage));
        report.peakMemoryBytes = (600 + static_cast<int>(stage)) << 20;
        report.plannedPeakBytes = core::methodStage(stage) > 0 ? int64_t(700) << 20 : -1;
        report.output = "out/" + std::string(core::stageKey(stage));
        report.details = {{"seconds", report.seconds}};
        result.stages.push_back(report);
    }
    result.evaluated = true;
    result.evaluation.metric = "exact";
    result.evaluation.examples = 48;
    core::ModelEvaluation model;
    model.name = "original+corrected";
    model.loss = 0.0432;
    model.generated = 48;
    model.matched = 37;
    model.matchRate = 37.0 / 48.0;
    result.evaluation.models.push_back(model);
    core::ExportResult exported;
    exported.format = "peft";
    exported.path = "out/export/peft-adapter";
    exported.bytes = 123456;
    exported.tensorsChecked = 14;
    result.exports.push_back(exported);
    result.adapterDir = "refined-adapter";
    return result;
}

void writeText(const std::filesystem::path &path, const std::string &text)
{
    std::ofstream(path) << text;
}
} // namespace

class TestRunFolder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyStageHasOneKey()
    {
        std::set<std::string_view> keys;
        for (Stage stage : kAllStages) {
            const std::string_view key = core::stageKey(stage);
            QVERIFY(!key.empty());
            QVERIFY2(keys.insert(key).second, key.data());
            QCOMPARE(core::stageFromKey(key), std::optional<Stage>(stage));
        }
    }

    void progressLabelsNameTheirStage()
    {
        // The evaluation's progress names the model after the stage; the export its format.
        QCOMPARE(core::stageFromKey("evaluate original+lora"), std::optional<Stage>(Stage::Evaluate));
        QCOMPARE(core::stageFromKey("export adapter.gguf"), std::optional<Stage>(Stage::Export));
        // Work that is not a stage of the run, and near misses, name none.
        for (const char *label :
             {"load", "generate", "dataset", "write GGUF", "train 3", "trainer", "refine-", ""})
            QVERIFY2(!core::stageFromKey(label), label);
        QCOMPARE(core::stageFromKey("refine-validate"), std::optional<Stage>(Stage::RefineValidate));
    }

    void methodStagesAndClocks()
    {
        QCOMPARE(core::methodStage(Stage::Calibrate), 1);
        QCOMPARE(core::methodStage(Stage::Validate), 2);
        QCOMPARE(core::methodStage(Stage::Refine), 3);
        QCOMPARE(core::methodStage(Stage::Evaluate), 0);
        QCOMPARE(core::methodStage(Stage::Export), 0);
        QCOMPARE(core::clockStage(Stage::Validate), Stage::Train);
        QCOMPARE(core::clockStage(Stage::RefineValidate), Stage::Refine);
        QCOMPARE(core::clockStage(Stage::Build), Stage::Build);
    }

    void summaryReadsBackAsWritten()
    {
        const core::PipelineResult written = finishedRun();
        const core::PipelineResult read = core::pipelineResultFromJson(written.toJson());
        QCOMPARE(read.toJson().dump(), written.toJson().dump());
        QCOMPARE(read.stages.size(), written.stages.size());
        QCOMPARE(read.stages.front().stage, Stage::Emulator);
        QVERIFY(read.stages.front().skipped);
        QCOMPARE(read.stages[1].plannedPeakBytes, int64_t(700) << 20);
        QCOMPARE(read.evaluation.models.front().matched, int64_t(37));
        QCOMPARE(read.exports.front().bytes, uint64_t(123456));
    }

    void aRunFolderIsReadWithItsLayout()
    {
        QTemporaryDir dir;
        const core::RunFolder folder{dir.path().toStdString()};
        QVERIFY(!core::readPipelineSummary(dir.path().toStdString())); // never finished: no summary
        writeText(folder.summary(), finishedRun().toJson().dump(2));
        const auto read = core::readPipelineSummary(dir.path().toStdString());
        QVERIFY(read);
        QCOMPARE(read->adapterDir, std::string("refined-adapter"));
        // The shipped adapter is the summary's, once it is there; the corrected one before.
        QCOMPARE(core::pipelineShippedAdapter(dir.path().toStdString()), std::string());
        std::filesystem::create_directories(folder.correctedAdapter());
        writeText(folder.correctedAdapter() / "adapter_config.json", "{}");
        QCOMPARE(core::pipelineShippedAdapter(dir.path().toStdString()), folder.correctedAdapter().string());
        std::filesystem::create_directories(folder.refinedAdapter());
        writeText(folder.refinedAdapter() / "adapter_config.json", "{}");
        QCOMPARE(core::pipelineShippedAdapter(dir.path().toStdString()), folder.refinedAdapter().string());
    }

    void aDamagedSummaryIsNamed_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << QString("{\"ratio\": 0.4, \"stag") << QString("not readable JSON");
        QTest::newRow("not an object") << QString("[1, 2]") << QString("not a run summary");
        QTest::newRow("no stages") << QString("{\"ratio\": 0.4}") << QString("stages");
        QTest::newRow("unknown stage")
            << QString("{\"ratio\": 0.4, \"stages\": [{\"stage\": \"distill\"}]}") << QString("'distill'");
        QTest::newRow("progress label as stage")
            << QString("{\"ratio\": 0.4, \"stages\": [{\"stage\": \"evaluate original\"}]}")
            << QString("'evaluate original'");
    }

    void aDamagedSummaryIsNamed()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const core::RunFolder folder{dir.path().toStdString()};
        writeText(folder.summary(), text.toStdString());
        try {
            core::readPipelineSummary(dir.path().toStdString());
            QFAIL("a damaged summary was read");
        } catch (const core::Error &error) {
            const QString message = QString::fromStdString(error.what());
            QVERIFY2(message.contains(QString::fromStdString(folder.summary().string())),
                     qPrintable(message));
            QVERIFY2(message.contains(expected), qPrintable(message));
            QVERIFY2(message.contains("Run the pipeline again"), qPrintable(message));
        }
        // The adapter a damaged summary would have named is still found: the corrected one.
        std::filesystem::create_directories(folder.correctedAdapter());
        writeText(folder.correctedAdapter() / "adapter_config.json", "{}");
        QCOMPARE(core::pipelineShippedAdapter(dir.path().toStdString()), folder.correctedAdapter().string());
    }
};

QTEST_GUILESS_MAIN(TestRunFolder)
#include "test_run_folder.moc"
