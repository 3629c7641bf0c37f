// A project as the engine's run configuration document and back: the one mapping between the pages'
// fields and core's keys, used by the project file (which embeds the document) and by the engine glue.
#include "project/project.h"

#include "emloc/api/run_choices.h"
#include "project/project_json.h"

#include <QJsonArray>

namespace emloc::ui {

namespace {

QString exportName(core::ExportFormat format)
{
    return QString::fromStdString(core::choiceName(core::kExportFormatChoices, format));
}

// Removes the dotted key from `object`, and any object it leaves empty.
void removeKey(QJsonObject &object, const QStringList &path)
{
    if (path.size() == 1) {
        object.remove(path.front());
        return;
    }
    QJsonValue child = object.value(path.front());
    if (!child.isObject())
        return;
    QJsonObject inner = child.toObject();
    removeKey(inner, path.mid(1));
    if (inner.isEmpty())
        object.remove(path.front());
    else
        object.insert(path.front(), inner);
}

void collectKeys(const QJsonObject &object, const QString &prefix, QStringList &keys)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString key = prefix.isEmpty() ? it.key() : prefix + QLatin1Char('.') + it.key();
        if (it.value().isObject())
            collectKeys(it.value().toObject(), key, keys);
        else
            keys << key;
    }
}

// `over`'s values replace `base`'s, object by object (JSON merge patch without deletions).
QJsonObject merged(QJsonObject base, const QJsonObject &over)
{
    for (auto it = over.begin(); it != over.end(); ++it) {
        const QJsonValue existing = base.value(it.key());
        if (it.value().isObject() && existing.isObject())
            base.insert(it.key(), merged(existing.toObject(), it.value().toObject()));
        else
            base.insert(it.key(), it.value());
    }
    return base;
}

} // namespace

QJsonObject Project::pageDocument(const QString &baseDir) const
{
    const TrainingSettings &t = training;
    QJsonArray exports;
    if (exportSettings.peftAdapter)
        exports.append(exportName(core::ExportFormat::Peft));
    if (exportSettings.ggufAdapter)
        exports.append(exportName(core::ExportFormat::GgufLora));
    if (exportSettings.mergedModel)
        exports.append(exportName(core::ExportFormat::Merged));
    if (exportSettings.ollama)
        exports.append(exportName(core::ExportFormat::Ollama));
    if (exportSettings.visionProjector)
        exports.append(exportName(core::ExportFormat::GgufMmproj));
    const bool memoryBudget = budget.mode == BudgetSettings::Mode::MemoryBudget;
    return QJsonObject{
        {"model", relativePath(modelPath, baseDir)},
        {"output", relativePath(exportSettings.outputFolder, baseDir)},
        {"device", budget.device},
        {"data", QJsonObject{{"train", relativePath(data.trainingPath, baseDir)},
                             {"test", relativePath(data.validationPath, baseDir)},
                             {"max_length", t.maxLength},
                             {"validation_fraction", data.validationFraction}}},
        {"emulator", QJsonObject{{"ratio", budget.ratio},
                                 {"vision_ratio", budget.visionRatio},
                                 {"budget_gb", memoryBudget ? budget.budgetGiB : 0.0},
                                 {"calibration_samples", budget.calibrationSamples}}},
        {"train",
         QJsonObject{{"steps", t.steps},
                     {"epochs", t.epochs},
                     {"batch", t.batchSize},
                     {"grad_accum", t.gradientAccumulation},
                     {"lr", t.learningRate},
                     {"warmup_ratio", t.warmupFraction},
                     {"weight_decay", t.weightDecay},
                     {"eval_every", t.evaluationInterval},
                     {"seed", t.seed},
                     {"gradient_checkpointing", t.gradientCheckpointing},
                     {"lora", QJsonObject{{"rank", t.loraRank},
                                          {"alpha", t.loraAlpha},
                                          {"dropout", t.loraDropout},
                                          {"targets", QJsonArray::fromStringList(t.targetModules)}}}}},
        {"export", exports},
    };
}

QJsonObject Project::runDocument(const QString &baseDir) const
{
    return merged(advanced, pageDocument(baseDir));
}

const QStringList &Project::pageKeys()
{
    static const QStringList keys = [] {
        QStringList collected;
        collectKeys(Project().pageDocument(), QString(), collected);
        return collected;
    }();
    return keys;
}

std::optional<Project> Project::fromRunDocument(const QJsonObject &run, const QString &baseDir,
                                                QString *error, const QString &fieldPrefix)
{
    QString problem;
    Project project;
    TrainingSettings &t = project.training;
    FieldReader root(run, fieldPrefix);
    root.read("model", project.modelPath, &problem);
    root.read("output", project.exportSettings.outputFolder, &problem);
    root.read("device", project.budget.device, &problem);

    FieldReader dataReader = root.child("data", &problem);
    dataReader.read("train", project.data.trainingPath, &problem);
    dataReader.read("test", project.data.validationPath, &problem);
    dataReader.read("max_length", t.maxLength, &problem);
    dataReader.read("validation_fraction", project.data.validationFraction, &problem);

    FieldReader emulator = root.child("emulator", &problem);
    double budgetGb = 0;
    emulator.read("ratio", project.budget.ratio, &problem);
    emulator.read("budget_gb", budgetGb, &problem);
    emulator.read("calibration_samples", project.budget.calibrationSamples, &problem);
    emulator.read("vision_ratio", project.budget.visionRatio, &problem);
    if (budgetGb > 0) {
        project.budget.mode = BudgetSettings::Mode::MemoryBudget;
        project.budget.budgetGiB = budgetGb;
    }

    FieldReader train = root.child("train", &problem);
    train.read("steps", t.steps, &problem);
    train.read("epochs", t.epochs, &problem);
    train.read("batch", t.batchSize, &problem);
    train.read("grad_accum", t.gradientAccumulation, &problem);
    train.read("lr", t.learningRate, &problem);
    train.read("warmup_ratio", t.warmupFraction, &problem);
    train.read("weight_decay", t.weightDecay, &problem);
    train.read("eval_every", t.evaluationInterval, &problem);
    train.read("seed", t.seed, &problem);
    train.read("gradient_checkpointing", t.gradientCheckpointing, &problem);
    FieldReader lora = train.child("lora", &problem);
    lora.read("rank", t.loraRank, &problem);
    lora.read("alpha", t.loraAlpha, &problem);
    lora.read("dropout", t.loraDropout, &problem);
    lora.read("targets", t.targetModules, &problem);

    if (run.contains(QLatin1String("export"))) {
        QStringList formats;
        root.read("export", formats, &problem);
        ExportSettings &exports = project.exportSettings;
        exports.peftAdapter = formats.contains(exportName(core::ExportFormat::Peft));
        exports.ggufAdapter = formats.contains(exportName(core::ExportFormat::GgufLora));
        exports.mergedModel = formats.contains(exportName(core::ExportFormat::Merged));
        exports.ollama = formats.contains(exportName(core::ExportFormat::Ollama));
        exports.visionProjector = formats.contains(exportName(core::ExportFormat::GgufMmproj));
    }
    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return std::nullopt;
    }

    // Every other setting is advanced, kept verbatim for the engine's reader to check.
    QJsonObject advanced = run;
    for (const QString &key : pageKeys())
        removeKey(advanced, key.split(QLatin1Char('.')));
    project.advanced = advanced;
    project.resolvePaths(baseDir);
    return project;
}

} // namespace emloc::ui
