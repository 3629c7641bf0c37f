#include "engine_project.h"

#include "installed_data.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"

#include <torch/cuda.h>

#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>

#include <algorithm>
#include <string>
#include <vector>

namespace emloc::gui {

namespace {

std::string text(const QString &value)
{
    return value.toStdString();
}

// The configuration keys the pages set, with the project's values: everything but the advanced settings.
nlohmann::json pageSettings(const ui::Project &project)
{
    const ui::TrainingSettings &t = project.training;
    const ui::BudgetSettings &budget = project.budget;
    nlohmann::json exports = nlohmann::json::array();
    if (project.exportSettings.peftAdapter)
        exports.push_back(core::exportFormatName(core::ExportFormat::Peft));
    if (project.exportSettings.ggufAdapter)
        exports.push_back(core::exportFormatName(core::ExportFormat::GgufLora));
    if (project.exportSettings.mergedModel)
        exports.push_back(core::exportFormatName(core::ExportFormat::Merged));
    std::vector<std::string> targets;
    for (const QString &target : t.targetModules)
        targets.push_back(text(target));
    const bool memoryBudget = budget.mode == ui::BudgetSettings::Mode::MemoryBudget;
    return {
        {"model", text(project.modelPath)},
        {"output", text(project.runFolder())},
        {"device", text(budget.device)},
        {"data",
         {{"train", text(project.data.trainingPath)},
          {"test", text(project.data.validationPath)},
          {"max_length", t.maxLength},
          {"validation_fraction", project.data.validationFraction}}},
        {"emulator",
         {{"ratio", budget.ratio},
          {"budget_gb", memoryBudget ? budget.budgetGiB : 0.0},
          {"calibration_samples", budget.calibrationSamples}}},
        {"train",
         {{"steps", t.steps},
          {"epochs", t.epochs},
          {"batch", t.batchSize},
          {"grad_accum", t.gradientAccumulation},
          {"lr", t.learningRate},
          {"warmup_ratio", t.warmupFraction},
          {"weight_decay", t.weightDecay},
          {"eval_every", t.evaluationInterval},
          {"seed", t.seed},
          {"gradient_checkpointing", t.gradientCheckpointing},
          {"lora",
           {{"rank", t.loraRank},
            {"alpha", t.loraAlpha},
            {"dropout", t.loraDropout},
            {"targets", targets}}}}},
        {"export", exports},
    };
}

const std::vector<std::string> &pageKeys()
{
    static const std::vector<std::string> keys = settingKeys(pageSettings(ui::Project()));
    return keys;
}

nlohmann::json::json_pointer pointer(const std::string &dottedKey)
{
    std::string path;
    for (char c : dottedKey)
        path += c == '.' ? '/' : c;
    return nlohmann::json::json_pointer("/" + path);
}

nlohmann::json advancedSettings(const ui::Project &project)
{
    const QByteArray bytes = QJsonDocument(project.advanced).toJson(QJsonDocument::Compact);
    return nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size());
}

void collectKeys(const nlohmann::json &json, const std::string &prefix, std::vector<std::string> &keys)
{
    for (const auto &item : json.items()) {
        const std::string key = prefix.empty() ? item.key() : prefix + "." + item.key();
        if (item.value().is_object())
            collectKeys(item.value(), key, keys);
        else
            keys.push_back(key);
    }
}

} // namespace

std::vector<std::string> settingKeys(const nlohmann::json &document)
{
    std::vector<std::string> keys;
    collectKeys(document, "", keys);
    return keys;
}

core::PipelineConfig pipelineConfig(const ui::Project &project, core::RunPaths paths)
{
    const std::string source = "the project's advanced settings";
    nlohmann::json run = advancedSettings(project);
    if (!run.is_object())
        throw core::Error(source + " must be a JSON object ({...})");
    const nlohmann::json pages = pageSettings(project);
    for (const std::string &key : pageKeys()) {
        if (run.contains(pointer(key)))
            throw core::Error(source + ": '" + key +
                              "' is set on the Studio's pages (Model, Data, Budget, Export); remove it here");
        // A section the pages add keys to must be one ("train": 5 would be replaced, not reported).
        for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
            const auto section = pointer(key.substr(0, dot));
            if (run.contains(section) && !run.at(section).is_object())
                throw core::Error(source + ": '" + key.substr(0, dot) + "' must be a JSON object ({...})");
        }
    }
    run.merge_patch(pages);
    core::PipelineConfig config = core::pipelineConfigFromJson(run, source, "", "", paths);
    if (config.device.empty()) // the project leaves the choice to the Studio: the first GPU, else the CPU
        config.device = torch::cuda::is_available() ? "cuda:0" : "cpu";
    return config;
}

ui::Project projectFor(const core::PipelineConfig &config)
{
    ui::Project project;
    project.modelPath = QString::fromStdString(config.model);
    project.exportSettings.outputFolder = QString::fromStdString(config.outputDir);
    project.budget.device = QString::fromStdString(config.device);
    project.data.trainingPath = QString::fromStdString(config.trainData);
    project.data.validationPath = QString::fromStdString(config.testData);
    project.data.validationFraction = config.validationFraction;
    project.budget.ratio = config.emulator.ratio;
    project.budget.calibrationSamples = static_cast<int>(config.emulator.calibration.samples);
    if (config.budgetBytes > 0) {
        project.budget.mode = ui::BudgetSettings::Mode::MemoryBudget;
        project.budget.budgetGiB = double(config.budgetBytes) / double(int64_t(1) << 30);
    }
    ui::TrainingSettings &t = project.training;
    const core::TrainOptions &train = config.train;
    t.maxLength = static_cast<int>(config.maxLength);
    t.steps = static_cast<int>(train.steps);
    t.epochs = train.epochs;
    t.batchSize = static_cast<int>(train.batchSize);
    t.gradientAccumulation = static_cast<int>(train.gradAccum);
    t.learningRate = train.learningRate;
    t.warmupFraction = train.warmupRatio;
    t.weightDecay = train.adam.weightDecay;
    t.evaluationInterval = static_cast<int>(train.evalEvery);
    t.seed = static_cast<int>(train.seed);
    t.gradientCheckpointing = train.gradientCheckpointing;
    t.loraRank = static_cast<int>(train.lora.rank);
    t.loraAlpha = train.lora.alpha;
    t.loraDropout = train.lora.dropout;
    t.targetModules.clear();
    for (const std::string &target : train.lora.targets)
        t.targetModules << QString::fromStdString(target);
    ui::ExportSettings &exports = project.exportSettings;
    exports.peftAdapter = exports.ggufAdapter = exports.mergedModel = false;
    for (core::ExportFormat format : config.exports) {
        exports.peftAdapter = exports.peftAdapter || format == core::ExportFormat::Peft;
        exports.ggufAdapter = exports.ggufAdapter || format == core::ExportFormat::GgufLora;
        exports.mergedModel = exports.mergedModel || format == core::ExportFormat::Merged;
    }

    // Every other setting that is not core's default goes to the advanced settings.
    const nlohmann::json document = config.toJson();
    const nlohmann::json defaults = core::PipelineConfig().toJson();
    const std::vector<std::string> keys = settingKeys(document);
    nlohmann::json advanced = nlohmann::json::object();
    for (const std::string &key : keys) {
        const auto at = pointer(key);
        if (std::find(pageKeys().begin(), pageKeys().end(), key) == pageKeys().end() &&
            document.at(at) != defaults.at(at))
            advanced[at] = document.at(at);
    }
    const std::string bytes = advanced.dump();
    project.advanced = QJsonDocument::fromJson(QByteArray::fromStdString(bytes)).object();
    return project;
}

void writeRunConfiguration(const ui::Project &project, const QString &path)
{
    core::writeFileAtomically(text(path), pipelineConfig(project).toJson().dump(2) + "\n");
}

std::optional<ui::Project> demoProject(const QString &sourceTree)
{
    const QString installed = ui::installedDataDirectory();
    const QString configPath = installed.isEmpty()
                                   ? sourceTree + QStringLiteral("/resources/demo/demo-run.json")
                                   : installed + QStringLiteral("/demo/demo-run.json");
    // The installed configuration names no output (its folder is read-only): the user's data folder.
    const QString output =
        installed.isEmpty()
            ? QString()
            : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/demo-run");
    try {
        const core::PipelineConfig config = core::loadPipelineConfig(text(configPath), text(output));
        const ui::Project project = projectFor(config);
        const QFileInfo model(project.modelPath);
        const bool modelReady =
            model.isDir() ? QFileInfo::exists(project.modelPath + QStringLiteral("/model.safetensors"))
                          : model.isFile();
        if (!modelReady || !QFileInfo::exists(project.data.trainingPath))
            return std::nullopt;
        return project;
    } catch (const core::Error &) {
        return std::nullopt; // no demo configuration here: the Studio starts on an empty project
    }
}

} // namespace emloc::gui
