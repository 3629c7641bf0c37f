#include "emloc/stages/step_time.h"

#include "emloc/api/device.h"
#include "emloc/api/run_folder.h"
#include "emloc/io/atomic_file.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/train_loop.h"

#include <filesystem>

namespace emloc::core {

namespace {

// A step at full length (every sequence max_length tokens, all trained): the same yardstick for the last
// run and this one, so their ratio carries the last run's measured time over.
double fullStepFlops(const PipelineConfig &config, const ModelConfig &model, double ratio)
{
    const int64_t embeddings = model.vocabSize * model.hiddenSize * (model.tieWordEmbeddings ? 1 : 2);
    const int64_t linear =
        emulatorParameterCount(model, ratio, config.emulator.keepLastDownProjDense) - embeddings;
    const int64_t rows = config.train.batchSize, length = config.maxLength;
    return estimateStepFlops(model, linear, rows, length, rows * length, config.train.gradientCheckpointing) *
           static_cast<double>(config.train.gradAccum);
}

bool onCuda(const std::string &device)
{
    return parseDeviceList(device).front().isCuda;
}

} // namespace

double processStepShare(int64_t gradAccum, int processes)
{
    if (processes <= 1 || gradAccum < 1)
        return 1.0;
    if (gradAccum < processes)
        return 1.0 / processes;
    return static_cast<double>((gradAccum + processes - 1) / processes) / static_cast<double>(gradAccum);
}

StepTimeEstimate estimateStepTime(const PipelineConfig &config, const ModelConfig &model, double ratio,
                                  int processes, const std::function<double()> &matmulFlopsPerSecond)
{
    StepTimeEstimate estimate;
    const double flops = fullStepFlops(config, model, ratio);
    const double share = processStepShare(config.train.gradAccum, processes);
    try { // the last finished run of the same model in the same folder, on the same kind of device
        const RunFolder run{config.outputDir};
        const std::optional<PipelineResult> last =
            config.outputDir.empty() ? std::nullopt : readPipelineSummary(config.outputDir);
        const std::filesystem::path trained = run.training() / "training_summary.json";
        if (last && last->ratio > 0 && std::filesystem::exists(trained) &&
            std::filesystem::exists(run.configuration())) {
            const nlohmann::json summary = nlohmann::json::parse(readTextFile(trained.string()));
            const PipelineConfig ran = pipelineConfigFromJson(
                nlohmann::json::parse(readTextFile(run.configuration().string())),
                run.configuration().string(), run.root.string(), "", RunPaths::Optional);
            const double seconds = summary.value("seconds_per_step", 0.0);
            const int ranProcesses = summary.value("processes", 1);
            if (seconds > 0 && ran.model == config.model && onCuda(ran.device) == onCuda(config.device)) {
                const double lastFlops = fullStepFlops(ran, model, last->ratio);
                const double single = seconds / processStepShare(ran.train.gradAccum, ranProcesses);
                estimate.singleProcessSeconds = single * flops / lastFlops;
                estimate.seconds = estimate.singleProcessSeconds * share;
                estimate.fromLastRun = true;
                return estimate;
            }
        }
    } catch (const std::exception &) {
        // An unreadable last run says nothing about speed: the device's rate answers instead.
    }
    const double rate = matmulFlopsPerSecond ? matmulFlopsPerSecond() : 0;
    if (rate > 0) {
        estimate.flopsPerSecond = rate;
        estimate.singleProcessSeconds = flops / rate;
        estimate.seconds = estimate.singleProcessSeconds * share;
    }
    return estimate;
}

} // namespace emloc::core
