#include "engine_jobs.h"

#include "engine_project.h"

#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/model/throughput.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/pipeline.h"
#include "emloc/stages/pipeline_processes.h"
#include "emloc/stages/step_time.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/engine_job.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/vision_language_model.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <map>
#include <mutex>
#include <optional>

namespace emloc::gui {

namespace {

std::string text(const QString &value)
{
    return value.toStdString();
}

// The matrix-product rate of the run's (first) device in the dtype it trains in, measured once per device
// and session (a third of a second).
double deviceMatmulRate(const std::string &device)
{
    static std::mutex mutex;
    static std::map<std::string, double> rates;
    const core::DeviceSpec spec = core::parseDeviceList(device).front();
    const std::lock_guard<std::mutex> lock(mutex);
    auto [entry, added] = rates.try_emplace(spec.toString(), 0.0);
    if (added) {
        try {
            core::requireDevice(spec);
            entry->second =
                core::measureMatmulRate(torch::Device(spec.toString()),
                                        spec.isCuda ? torch::kBFloat16 : torch::kFloat32, 1024, 0.3)
                    .flopsPerSecond;
        } catch (const std::exception &) {
            // A device this machine lacks has no rate; the Budget page says what is wrong with it.
        }
    }
    return entry->second;
}

} // namespace

ui::PlanPreview PipelineJobs::plan(const ui::Project &project)
{
    ui::PlanPreview preview;
    if (project.modelPath.isEmpty()) {
        preview.error =
            QObject::tr("Choose a model on the Model page to see how memory depends on the emulator size.");
        return preview;
    }
    try {
        const core::PipelineConfig config = pipelineConfig(project, core::RunPaths::Optional);
        const core::StageModel model = core::openStageModel(config.model);
        const core::ModelConfig &original = model.files.config;
        preview.visionLanguage = model.vision.has_value();
        const core::PlanSettings settings = core::pipelinePlanSettings(config);
        for (const core::MemoryPlan &plan :
             core::memoryCurve(core::plannableConfig(original), settings, 0.05, 1.0, 20))
            preview.curve.push_back({plan.ratio, plan.inference.totalBytes(), plan.construction.totalBytes(),
                                     plan.fineTuning.totalBytes(), plan.correction.totalBytes()});
        preview.ratio = config.emulator.ratio;
        preview.refinementBytes = core::pipelineRefinementBytes(config, original);
        if (config.budgetBytes > 0) {
            preview.budgetBytes = config.budgetBytes;
            const core::RatioChoice choice = core::choosePipelineRatio(config, original);
            preview.fits = choice.fits;
            preview.ratio = choice.fits ? choice.ratio : -1;
            preview.advice = QString::fromStdString(choice.advice);
        }
        preview.processes = static_cast<int>(core::parseDeviceList(config.device).size());
        if (preview.processes > 1 && preview.ratio > 0) {
            const core::MemoryPlan share = core::planMemory(
                core::plannableConfig(original),
                core::processShare(settings, preview.processes, config.train.gradAccum), preview.ratio);
            preview.processConstructionBytes = share.construction.totalBytes();
            preview.processFineTuningBytes = share.fineTuning.totalBytes();
        }
        if (preview.ratio > 0) {
            const core::StepTimeEstimate step = core::estimateStepTime(
                config, core::plannableConfig(original), preview.ratio, preview.processes,
                [&config] { return deviceMatmulRate(config.device); });
            preview.stepSeconds = step.seconds;
            preview.singleProcessStepSeconds = step.singleProcessSeconds;
            preview.stepFromLastRun = step.fromLastRun;
            preview.flopsPerSecond = step.flopsPerSecond;
        }
    } catch (const std::exception &e) {
        preview.curve.clear();
        preview.error = QObject::tr("No memory preview: %1").arg(QString::fromStdString(e.what()));
    }
    return preview;
}

ui::CatalogFits PipelineJobs::catalogFits(const ui::Project &project, const ui::CatalogQuery &query)
{
    ui::CatalogFits fits;
    try {
        // The run's settings for the catalog's models, not the project's model (its vision tower).
        core::PipelineConfig config = pipelineConfig(project, core::RunPaths::Optional);
        config.model.clear();
        core::PlanSettings settings = core::pipelinePlanSettings(config);
        settings.cuda = query.cuda;
        settings.valueBytes = query.valueBytes;
        settings.sequenceLength = query.sequenceLength;
        settings.calibrationSequenceLength = query.sequenceLength;
        for (const core::CatalogModel &model : core::catalogModels()) {
            const core::ModelFit fit = core::planFit(model.config, settings, query.memoryBytes);
            ui::CatalogFit row;
            row.name = QString::fromStdString(model.name);
            row.repository = QString::fromStdString(model.repository);
            row.parameters = fit.parameters;
            row.inferenceBytes = fit.inferenceBytes;
            row.inferenceFits = fit.inferenceFits;
            row.fullLoraBytes = fit.fullLoraBytes;
            row.fullLoraFits = fit.fullLoraFits;
            row.emlocFits = fit.emloc.fits;
            row.emlocRatio = fit.emloc.ratio;
            row.emlocPeakBytes = fit.emloc.plan.peakBytes();
            row.caveat = QString::fromStdString(fit.caveat);
            fits.models.push_back(row);
        }
    } catch (const std::exception &e) {
        fits.models.clear();
        fits.error = QObject::tr("The catalog cannot be planned: %1").arg(QString::fromStdString(e.what()));
    }
    return fits;
}

ui::DatasetStats PipelineJobs::datasetStats(const ui::Project &project)
{
    ui::DatasetStats stats;
    if (project.modelPath.isEmpty() || project.data.trainingPath.isEmpty()) {
        stats.error =
            QObject::tr("Choose a model and a training file to see the records as training sees them.");
        return stats;
    }
    try {
        // A vision-language model sees each record's images as their tokens.
        const core::StageModel model = core::openStageModel(text(project.modelPath));
        const std::optional<core::VisionLanguageFiles> &vision = model.vision;
        const core::ModelFiles &files = model.files;
        const core::ModelText modelText = core::openModelText(files);
        core::PrepareOptions options;
        if (vision)
            options.images = core::datasetImageTokens(*vision, text(project.data.trainingPath));
        options.tokenize.maxLength = project.training.maxLength;
        options.keepExamples = false;
        options.requireUsable = false;
        const core::DatasetStatistics s =
            core::prepareDataset(text(project.data.trainingPath), modelText.chatTemplate,
                                 *modelText.tokenizer, options)
                .statistics;
        stats.templateName = QString::fromStdString(s.templateName);
        stats.records = s.records;
        stats.used = s.used;
        stats.skipped = s.skipped;
        for (const auto &[reason, count] : s.skipReasons)
            stats.skipReasons << QStringLiteral("%1: %2").arg(QString::fromStdString(reason)).arg(count);
        stats.truncated = s.truncated;
        stats.maxLengthOption = s.maxLengthOption;
        stats.maskedFraction = s.maskedFraction;
        stats.histogramEdges.assign(s.histogram.edges.begin(), s.histogram.edges.end());
        stats.histogramCounts.assign(s.histogram.counts.begin(), s.histogram.counts.end());
        stats.exampleRecord = s.exampleRecord;
        for (const auto &segment : s.exampleSegments)
            stats.example.push_back({QString::fromStdString(segment.text), segment.trained});
    } catch (const std::exception &e) {
        stats = {};
        stats.error = QObject::tr("No token statistics: %1").arg(QString::fromStdString(e.what()));
    }
    return stats;
}

namespace {

// The adapter the chat's "corrected" answer uses: what the last run ships.
std::string chatAdapter(const ui::Project &project)
{
    const std::string adapter = core::pipelineShippedAdapter(text(project.runFolder()));
    if (adapter.empty())
        throw core::Error("no corrected adapter yet: run the three stages first");
    return adapter;
}

// Passes on what each new token adds to the answer: decoding the whole answer each time keeps
// multi-byte characters whole.
core::TokenCallback streamAnswer(const core::Tokenizer &tokenizer, std::vector<int64_t> &tokens,
                                 std::string &sent, const std::function<bool(const QString &piece)> &onText)
{
    return [&tokenizer, &tokens, &sent, &onText](int64_t token) {
        tokens.push_back(token);
        const std::string answer = tokenizer.decode(tokens, true);
        if (answer.size() > sent.size() && answer.compare(0, sent.size(), sent) == 0) {
            const std::string piece = answer.substr(sent.size());
            sent = answer;
            return onText(QString::fromStdString(piece));
        }
        return true;
    };
}

// A vision-language model's answer: the image's tiles through its tower, in the prompt as InternVL's chat
// places them (`emloc generate --image` builds the same prompt).
void chatWithImage(const ui::Project &project, const QString &which, const QString &prompt,
                   const QString &image, const std::function<bool(const QString &piece)> &onText)
{
    core::VisionLanguageFiles files = core::openVisionLanguageModel(text(project.modelPath));
    if (which == QLatin1String("corrected"))
        core::mergeInternVLAdapterFolder(files, chatAdapter(project));
    const core::ModelText modelText = core::openModelText(files.language);
    std::vector<std::string> images;
    if (!image.isEmpty())
        images.push_back(text(image));
    const core::ImagePrompt asked = core::buildImagePrompt(
        text(prompt), images, files.tiling, files.config.tokensPerTile(files.tiling.tileSize),
        [&](const std::string &question) {
            return modelText.chatTemplate.render({{"user", question}}, true);
        },
        *modelText.tokenizer, /*addSpecialTokens=*/false);
    core::VisionLanguageModel model(files);
    core::GenerationOptions options;
    options.maxNewTokens = 128;
    options.stopTokenIds = core::stopTokensFor(files.language);
    std::vector<int64_t> tokens;
    std::string sent;
    model.generate(asked.ids, asked.images.pixelValues, options,
                   streamAnswer(*modelText.tokenizer, tokens, sent, onText));
}

} // namespace

void PipelineJobs::chat(const ui::Project &project, const QString &which, const QString &prompt,
                        const QString &image, const std::function<bool(const QString &piece)> &onText)
{
    if (core::isVisionLanguageFolder(text(project.modelPath)))
        return chatWithImage(project, which, prompt, image, onText);
    if (!image.isEmpty())
        throw core::Error("an image needs a vision-language model; this project's model is a text model");
    core::ModelFiles files = core::openModel(text(project.modelPath));
    const core::ModelText modelText = core::openModelText(files);
    if (which == QLatin1String("corrected"))
        files.weights = core::mergeAdapterWeights(files.weights, core::readPeftAdapter(chatAdapter(project)));
    const std::string rendered = modelText.chatTemplate.render({{"user", text(prompt)}}, true);
    const core::Tokenizer &tokenizer = *modelText.tokenizer;
    core::CausalLM model(files);
    core::GenerationOptions options;
    options.maxNewTokens = 128;
    options.stopTokenIds = core::stopTokensFor(files);
    std::vector<int64_t> tokens;
    std::string sent;
    core::generate(model, tokenizer.encode(rendered), options, streamAnswer(tokenizer, tokens, sent, onText));
}

namespace {

// The program that runs the other processes of a job on several GPUs: `emloc` beside the Studio once
// installed (bin/), in app/cli of the build tree.
std::string workerProgram()
{
    const QDir dir(QCoreApplication::applicationDirPath());
    for (const QString &candidate :
         {dir.filePath(QStringLiteral("emloc")), dir.filePath(QStringLiteral("../cli/emloc"))})
        if (QFileInfo(candidate).isExecutable())
            return QFileInfo(candidate).canonicalFilePath().toStdString();
    throw core::Error(
        "the emloc program, which runs the other processes of a job on several GPUs, is not in " +
        text(dir.path()) + ": reinstall EMLoC Studio, or run on one GPU");
}

} // namespace

ui::JobFunction PipelineJobs::training(const ui::Project &project)
{
    // Read inside the job: a setting the engine refuses fails the job with the reader's message.
    return core::engineJob([project](core::Feedback &feedback) {
        const core::PipelineConfig config = pipelineConfig(project);
        if (core::pipelineProcesses(config, 1) == 1) {
            core::runPipeline(config, feedback);
            return;
        }
        core::LocalProcessesOptions options;
        options.engineProgram = workerProgram();
        core::runPipelineOnLocalProcesses(config, feedback, options);
    });
}

ui::JobFunction PipelineJobs::exporting(const ui::Project &project)
{
    return core::engineJob([project](core::Feedback &feedback) {
        const core::PipelineConfig config = pipelineConfig(project);
        // The adapter the run evaluated: refined when it refined, else corrected.
        const std::string shipped = core::pipelineShippedAdapter(config.outputDir);
        if (shipped.empty())
            throw core::Error("there is no corrected adapter in '" + config.outputDir +
                              "' yet: run the three stages first (Run page)");
        core::exportPipelineRun(config, shipped, feedback);
    });
}

} // namespace emloc::gui
