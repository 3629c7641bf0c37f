// The run folder as the front ends read it: the stage vocabulary every file and screen shares, and the
// summary a finished run leaves (read back exactly as written; a damaged one named, never half-read).
#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/api/stages.h"
#include "emloc/stages/pipeline.h"

#include "unit_test.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using emloc::core::Stage;
using emloc::test::contains;
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

TEST_CASE(everyStageHasOneKey)
{
    std::set<std::string_view> keys;
    for (Stage stage : kAllStages) {
        const std::string_view key = core::stageKey(stage);
        VERIFY(!key.empty());
        VERIFY2(keys.insert(key).second, std::string(key));
        COMPARE(core::stageFromKey(key), std::optional<Stage>(stage));
    }
}

TEST_CASE(progressLabelsNameTheirStage)
{
    // The evaluation's progress names the model after the stage; the export its format.
    COMPARE(core::stageFromKey("evaluate original+lora"), std::optional<Stage>(Stage::Evaluate));
    COMPARE(core::stageFromKey("export adapter.gguf"), std::optional<Stage>(Stage::Export));
    // Work that is not a stage of the run, and near misses, name none.
    for (const char *label :
         {"load", "generate", "dataset", "write GGUF", "train 3", "trainer", "refine-", ""})
        VERIFY2(!core::stageFromKey(label), label);
    COMPARE(core::stageFromKey("refine-validate"), std::optional<Stage>(Stage::RefineValidate));
}

TEST_CASE(methodStagesAndClocks)
{
    COMPARE(core::methodStage(Stage::Calibrate), 1);
    COMPARE(core::methodStage(Stage::Validate), 2);
    COMPARE(core::methodStage(Stage::Refine), 3);
    COMPARE(core::methodStage(Stage::Evaluate), 0);
    COMPARE(core::methodStage(Stage::Export), 0);
    COMPARE(core::clockStage(Stage::Validate), Stage::Train);
    COMPARE(core::clockStage(Stage::RefineValidate), Stage::Refine);
    COMPARE(core::clockStage(Stage::Build), Stage::Build);
}

TEST_CASE(summaryReadsBackAsWritten)
{
    const core::PipelineResult written = finishedRun();
    const core::PipelineResult read = core::pipelineResultFromJson(written.toJson());
    COMPARE(read.toJson().dump(), written.toJson().dump());
    COMPARE(read.stages.size(), written.stages.size());
    COMPARE(read.stages.front().stage, Stage::Emulator);
    VERIFY(read.stages.front().skipped);
    COMPARE(read.stages[1].plannedPeakBytes, int64_t(700) << 20);
    COMPARE(read.evaluation.models.front().matched, int64_t(37));
    COMPARE(read.exports.front().bytes, uint64_t(123456));
}

TEST_CASE(aRunFolderIsReadWithItsLayout)
{
    emloc::test::TempDir dir;
    const core::RunFolder folder{dir.path()};
    VERIFY(!core::readPipelineSummary(dir.path())); // never finished: no summary
    writeText(folder.summary(), finishedRun().toJson().dump(2));
    const auto read = core::readPipelineSummary(dir.path());
    VERIFY(read);
    COMPARE(read->adapterDir, std::string("refined-adapter"));
    // The shipped adapter is the summary's, once it is there; the corrected one before.
    COMPARE(core::pipelineShippedAdapter(dir.path()), std::string());
    std::filesystem::create_directories(folder.correctedAdapter());
    writeText(folder.correctedAdapter() / "adapter_config.json", "{}");
    COMPARE(core::pipelineShippedAdapter(dir.path()), folder.correctedAdapter().string());
    std::filesystem::create_directories(folder.refinedAdapter());
    writeText(folder.refinedAdapter() / "adapter_config.json", "{}");
    COMPARE(core::pipelineShippedAdapter(dir.path()), folder.refinedAdapter().string());
}

TEST_CASE(aDamagedSummaryIsNamed)
{
    struct Damage
    {
        const char *name;
        std::string text;
        std::string expected;
    };
    const std::vector<Damage> rows = {
        {"truncated", "{\"ratio\": 0.4, \"stag", "not readable JSON"},
        {"not an object", "[1, 2]", "not a run summary"},
        {"no stages", "{\"ratio\": 0.4}", "stages"},
        {"unknown stage", "{\"ratio\": 0.4, \"stages\": [{\"stage\": \"distill\"}]}", "'distill'"},
        {"progress label as stage", "{\"ratio\": 0.4, \"stages\": [{\"stage\": \"evaluate original\"}]}",
         "'evaluate original'"},
    };
    for (const Damage &damage : rows) {
        emloc::test::Row row(damage.name);
        emloc::test::TempDir dir;
        const core::RunFolder folder{dir.path()};
        writeText(folder.summary(), damage.text);
        try {
            core::readPipelineSummary(dir.path());
            FAIL("a damaged summary was read");
        } catch (const core::Error &error) {
            const std::string message = error.what();
            VERIFY2(contains(message, folder.summary().string()), message);
            VERIFY2(contains(message, damage.expected), message);
            VERIFY2(contains(message, "Run the pipeline again"), message);
        }
        // The adapter a damaged summary would have named is still found: the corrected one.
        std::filesystem::create_directories(folder.correctedAdapter());
        writeText(folder.correctedAdapter() / "adapter_config.json", "{}");
        COMPARE(core::pipelineShippedAdapter(dir.path()), folder.correctedAdapter().string());
    }
}
