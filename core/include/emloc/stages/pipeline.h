#pragma once
// The whole EMLoC job from one configuration file (`emloc run CONFIG.json`, the GUI's Run button): build
// the emulator, fine-tune LoRA on it, correct the LoRA, evaluate the four models on held-out data and
// export. A stage whose output folder already holds a result made from the same inputs and settings is
// skipped, so a stopped run continues where it stopped (training resumes from its checkpoint).

#include "emloc/api/job.h"
#include "emloc/api/run_defaults.h"
#include "emloc/api/stages.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/stages/evaluate.h"
#include "emloc/stages/export.h"
#include "emloc/stages/refine.h"
#include "emloc/stages/train_loop.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emloc::core {

class Collective;

// The pipeline's refinement settings before a configuration says otherwise (correct.refine_*): the last
// 4 decoder layers, 120 steps, the training's learning rate. On by default: without it the corrected
// adapter scored 0 % exact on both tasks of bench/README.md's study (bookings and reviews); with 30 steps
// it matched the emulator's own exact match, with 120 it passed it (bookings 25/32 against 21, reviews
// 32/32, at ratios 0.4 and 0.6) at the same peak. One place, so the JSON reader, the Studio, `emloc
// refine` and a default PipelineConfig agree.
inline RefineOptions pipelineRefineDefaults()
{
    RefineOptions refine;
    refine.layers = 4;
    refine.train.steps = 120;
    refine.train.learningRate = 0; // 0: train.lr
    return refine;
}

struct PipelineConfig
{
    std::string model;     // the ORIGINAL model: HF folder or .gguf
    std::string trainData; // training file; its samples also calibrate the emulator
    std::string testData;  // held-out file for the evaluation; empty: no evaluation
    std::string outputDir; // emulator/, train/, corrected/, evaluation.json, exports, summary.json
    std::string device = "cpu";
    // Data: how records become tokens (dataset.h, chat_template.h).
    std::string format = "auto";
    std::string chatTemplate = "auto";
    std::string systemPrompt;
    int64_t maxLength = run_defaults::kMaxLength.value;
    double validationFraction =
        run_defaults::kValidationFraction.value; // of the training file, for the trainer's validation loss
    // Stage 1. With budgetBytes > 0 the planner picks the ratio (the largest that fits).
    EmulatorOptions emulator;
    int64_t budgetBytes = 0;
    // Stage 2 (outputDir, baseModelName and padId are filled in by the pipeline).
    TrainOptions train;
    // Stage 3.
    double clampLimit = 3; // <= 0: no clamp
    // Beyond the paper (refine.h): the corrected LoRA of the last `refine.layers` decoder layers
    // fine-tuned on the original model; 0: off. Only steps, lr (0: train.lr) and layers are read from it.
    RefineOptions refine = pipelineRefineDefaults();
    EvaluationOptions evaluation; // metric, generation, maxNewTokens, maxExamples, batchSize
    std::vector<ExportFormat> exports{ExportFormat::Peft};

    // The configuration as a file holds it (paths as given): written beside the outputs.
    nlohmann::json toJson() const;
};

// Reads a configuration file. Relative paths are taken relative to the file's folder. Unknown keys are
// an Error (a typo must not silently fall back to a default); every Error names the file and the key and
// says what is accepted. A non-empty `outputOverride` (relative to the working folder) replaces the
// file's "output", which then may be absent: a configuration in a read-only place (the installed demo)
// still runs.
PipelineConfig loadPipelineConfig(const std::string &path, const std::string &outputOverride = "");
// Whether a document must name the files a run needs (model, output, data.train): a run's must; the
// Studio's settings are read (and checked) before the user has chosen them.
enum class RunPaths { Required, Optional };
// The same for a document already parsed; `source` names it in errors, `baseDir` resolves paths.
PipelineConfig pipelineConfigFromJson(const nlohmann::json &json, const std::string &source,
                                      const std::string &baseDir, const std::string &outputOverride = "",
                                      RunPaths paths = RunPaths::Required);

// What one stage did (or that it was skipped because its output was already there).
struct StageReport
{
    Stage stage = Stage::Emulator; // Emulator, Train, Correct, Refine, Evaluate or Export
    bool skipped = false;
    double seconds = 0;
    int64_t peakMemoryBytes = -1; // measured while the stage ran (process RSS / CUDA allocator)
    // The planner's prediction of that peak for this run's settings and ratio (the figure a budget is
    // held to); -1 for stages it does not plan (evaluation, export).
    int64_t plannedPeakBytes = -1;
    std::string output;
    nlohmann::json details; // the stage's own result (build, training, correction report, ...)
};

struct PipelineResult
{
    double ratio = 0; // the emulator's ratio (chosen by the planner when a budget was given)
    std::vector<StageReport> stages;
    // The peak of running the original model alone (forward of the calibration samples, full model
    // resident): the inference budget the EMLoC stages must stay within. -1 when not measured.
    int64_t inferencePeakBytes = -1;
    bool evaluated = false;
    EvaluationResult evaluation;
    std::vector<ExportResult> exports;
    // The adapter the run evaluated and exported, a folder of the run: "refined-adapter", or
    // "corrected-adapter" when it did not refine (off, or over the budget).
    std::string adapterDir;
    nlohmann::json toJson() const; // what summary.json holds
};

// A PipelineResult as toJson wrote it. Throws Error naming the field that is missing or not understood.
PipelineResult pipelineResultFromJson(const nlohmann::json &json);
// The summary of the finished run in `outputDir` (RunFolder::summary), for the front ends that show a
// past run; nullopt when it has none (it never finished). Throws Error naming the file when the file is
// there but cannot be read.
std::optional<PipelineResult> readPipelineSummary(const std::string &outputDir);

// The adapter a finished run in `outputDir` ships (its summary.json's "adapter"), for the front ends'
// later exports and chats; corrected-adapter/ for a summary written before it named one. Empty when the
// run has neither.
std::string pipelineShippedAdapter(const std::string &outputDir);

// The planner's settings a run of `config` implies (batch, sequence, LoRA, calibration, device).
PlanSettings pipelinePlanSettings(const PipelineConfig &config);

// The one budget-to-ratio decision of every front end (`emloc run`, `emloc build-emulator --budget-gb`,
// the Studio's preview): the largest ratio whose stages fit config.budgetBytes, planned with
// pipelinePlanSettings (the nominal calibration length, so it never depends on which samples were drawn).
// Without a budget: config.emulator.ratio. `model` is the original's config. When nothing fits, `fits`
// is false and `advice` says what to change.
RatioChoice choosePipelineRatio(const PipelineConfig &config, const ModelConfig &model);
// The same decision planned with `settings` (pipelinePlanSettings changed, e.g. another value size).
RatioChoice choosePipelineRatio(const PipelineConfig &config, const ModelConfig &model,
                                const PlanSettings &settings);

// The planned peak of refining the last config.refine.layers layers (0 when it does not refine). It does not
// depend on the ratio: one figure for the run's skip decision and the Studio's preview.
int64_t pipelineRefinementBytes(const PipelineConfig &config, const ModelConfig &model);
// What refinement may keep of its frozen layers' outputs (TrainOptions::frozenPrefixBytes): -1 (the
// default, a quarter of the weights) without a budget; with one, what the budget leaves beside
// refinement's other memory, so the cache never makes refinement miss a budget it would fit.
int64_t refinementPrefixBytes(const PipelineConfig &config, const ModelConfig &model);

// The name of an export inside the run's export/ folder ("peft-adapter", "adapter.gguf", ...).
std::string pipelineExportName(ExportFormat format);
// The run's exports (config.exports) of `adapterDir` into RunFolder::exports(), each verified: the
// pipeline's export stage, and the Studio's Export page for a finished run (pipelineShippedAdapter).
std::vector<ExportResult> exportPipelineRun(const PipelineConfig &config, const std::string &adapterDir,
                                            Feedback &feedback);

// Runs every stage in order; progress and metrics through `feedback`, pause/cancel between steps. A
// cancelled or failed stage leaves the outputs of the stages before it intact.
// With `collective` (several processes, each calling this with the same configuration): stages 1 and 2
// run on every rank, each on its share of the data; rank 0 alone writes, and alone runs the correction,
// refinement, evaluation and exports. The other ranks return after stage 2 with the stages they ran.
// Ranks whose configurations or models differ are refused at the start, naming the difference.
PipelineResult runPipeline(const PipelineConfig &config, Feedback &feedback,
                           Collective *collective = nullptr);

} // namespace emloc::core
