#include "project/project.h"

#include "emloc/api/projections.h"
#include "project/project_json.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>

#include <cmath>

namespace emloc::ui {

QStringList defaultTargetModules()
{
    QStringList targets;
    for (const std::string &name : core::decoderProjections())
        targets << QString::fromStdString(name);
    return targets;
}

namespace {

bool nearlyEqual(double a, double b)
{
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::max(std::abs(a), std::abs(b)));
}

} // namespace

bool TrainingSettings::operator==(const TrainingSettings &o) const
{
    return loraRank == o.loraRank && nearlyEqual(loraAlpha, o.loraAlpha) &&
           nearlyEqual(loraDropout, o.loraDropout) && targetModules == o.targetModules &&
           nearlyEqual(learningRate, o.learningRate) && batchSize == o.batchSize &&
           gradientAccumulation == o.gradientAccumulation && steps == o.steps &&
           nearlyEqual(epochs, o.epochs) && nearlyEqual(warmupFraction, o.warmupFraction) &&
           nearlyEqual(weightDecay, o.weightDecay) && maxLength == o.maxLength &&
           evaluationInterval == o.evaluationInterval && gradientCheckpointing == o.gradientCheckpointing &&
           seed == o.seed;
}

bool BudgetSettings::operator==(const BudgetSettings &o) const
{
    return device == o.device && mode == o.mode && nearlyEqual(budgetGiB, o.budgetGiB) &&
           nearlyEqual(ratio, o.ratio) && calibrationSamples == o.calibrationSamples &&
           nearlyEqual(visionRatio, o.visionRatio);
}

bool DataSettings::operator==(const DataSettings &o) const
{
    return trainingPath == o.trainingPath && validationPath == o.validationPath &&
           nearlyEqual(validationFraction, o.validationFraction);
}

bool ExportSettings::operator==(const ExportSettings &o) const
{
    return outputFolder == o.outputFolder && peftAdapter == o.peftAdapter && mergedModel == o.mergedModel &&
           ggufAdapter == o.ggufAdapter && ollama == o.ollama && visionProjector == o.visionProjector;
}

bool Project::operator==(const Project &o) const
{
    return modelPath == o.modelPath && data == o.data && budget == o.budget && training == o.training &&
           exportSettings == o.exportSettings && advanced == o.advanced;
}

QJsonObject Project::toJson(const QString &baseDir) const
{
    QJsonObject json{
        {"format", QLatin1String(kProjectFormat)},
        {"version", kProjectFormatVersion},
        {"run", runDocument(baseDir)},
    };
    // Window state: the budget typed on the Budget page while the ratio decides (the run has none).
    if (budget.mode == BudgetSettings::Mode::Ratio)
        json.insert("studio", QJsonObject{{"budgetGiB", budget.budgetGiB}});
    return json;
}

std::optional<Project> Project::fromJson(const QJsonObject &json, const QString &baseDir, QString *error)
{
    QString problem;
    if (json.value("format").toString() != QLatin1String(kProjectFormat)) {
        if (error)
            *error = QCoreApplication::translate(
                         "emloc::ui::Project",
                         "This is not an EMLoC Studio project: its \"format\" field is not \"%1\".")
                         .arg(QLatin1String(kProjectFormat));
        return std::nullopt;
    }
    const int version = json.value("version").toInt(0);
    if (version < 1 || version > kProjectFormatVersion) {
        if (error)
            *error =
                QCoreApplication::translate(
                    "emloc::ui::Project",
                    "The project was written by a newer EMLoC Studio (format version %1; this one reads up "
                    "to %2). Update EMLoC Studio to open it.")
                    .arg(version)
                    .arg(kProjectFormatVersion);
        return std::nullopt;
    }

    if (version == 1)
        return fromVersion1(json, baseDir, error);
    if (!json.value("run").isObject()) {
        if (error)
            *error = QCoreApplication::translate(
                "emloc::ui::Project", "The field \"run\" (the run configuration) must be an object.");
        return std::nullopt;
    }
    std::optional<Project> project =
        fromRunDocument(json.value("run").toObject(), baseDir, error, QStringLiteral("run."));
    if (!project)
        return std::nullopt;
    FieldReader studio = FieldReader(json, QString()).child("studio", &problem);
    if (project->budget.mode == BudgetSettings::Mode::Ratio)
        studio.read("budgetGiB", project->budget.budgetGiB, &problem);
    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return std::nullopt;
    }
    return project;
}

// Version 1 (EMLoC Studio before the run document was embedded): typed sections and an advanced object.
std::optional<Project> Project::fromVersion1(const QJsonObject &json, const QString &baseDir, QString *error)
{
    QString problem;
    Project project;
    FieldReader root(json, QString());
    FieldReader model = root.child("model", &problem);
    model.read("path", project.modelPath, &problem);

    FieldReader data = root.child("data", &problem);
    data.read("training", project.data.trainingPath, &problem);
    data.read("validation", project.data.validationPath, &problem);
    data.read("validationFraction", project.data.validationFraction, &problem);

    FieldReader budget = root.child("budget", &problem);
    QString mode = QStringLiteral("ratio");
    budget.read("device", project.budget.device, &problem);
    budget.read("mode", mode, &problem);
    budget.read("budgetGiB", project.budget.budgetGiB, &problem);
    budget.read("ratio", project.budget.ratio, &problem);
    budget.read("calibrationSamples", project.budget.calibrationSamples, &problem);
    if (mode == QLatin1String("memory"))
        project.budget.mode = BudgetSettings::Mode::MemoryBudget;
    else if (mode == QLatin1String("ratio"))
        project.budget.mode = BudgetSettings::Mode::Ratio;
    else if (problem.isEmpty())
        problem = QCoreApplication::translate(
                      "emloc::ui::Project",
                      "The field \"budget.mode\" must be \"memory\" or \"ratio\", not \"%1\".")
                      .arg(mode);

    TrainingSettings &t = project.training;
    FieldReader training = root.child("training", &problem);
    training.read("loraRank", t.loraRank, &problem);
    training.read("loraAlpha", t.loraAlpha, &problem);
    training.read("loraDropout", t.loraDropout, &problem);
    training.read("targetModules", t.targetModules, &problem);
    training.read("learningRate", t.learningRate, &problem);
    training.read("batchSize", t.batchSize, &problem);
    training.read("gradientAccumulation", t.gradientAccumulation, &problem);
    training.read("steps", t.steps, &problem);
    training.read("epochs", t.epochs, &problem);
    training.read("warmupFraction", t.warmupFraction, &problem);
    training.read("weightDecay", t.weightDecay, &problem);
    training.read("maxLength", t.maxLength, &problem);
    training.read("evaluationInterval", t.evaluationInterval, &problem);
    training.read("gradientCheckpointing", t.gradientCheckpointing, &problem);
    training.read("seed", t.seed, &problem);

    FieldReader exportObject = root.child("export", &problem);
    exportObject.read("outputFolder", project.exportSettings.outputFolder, &problem);
    exportObject.read("peftAdapter", project.exportSettings.peftAdapter, &problem);
    exportObject.read("mergedModel", project.exportSettings.mergedModel, &problem);
    exportObject.read("ggufAdapter", project.exportSettings.ggufAdapter, &problem);
    root.read("advanced", project.advanced, &problem);

    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return std::nullopt;
    }
    project.resolvePaths(baseDir);
    return project;
}

bool Project::save(const QString &path, QString *error) const
{
    const QString baseDir = QFileInfo(path).absolutePath();
    const QByteArray bytes = QJsonDocument(toJson(baseDir)).toJson(QJsonDocument::Indented);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QCoreApplication::translate("emloc::ui::Project",
                                                 "Cannot write \"%1\": %2. Choose a folder you can write to.")
                         .arg(path, file.errorString());
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error =
                QCoreApplication::translate(
                    "emloc::ui::Project",
                    "Writing \"%1\" failed: %2. Check that the disk is not full; the previous version of "
                    "the file is unchanged.")
                    .arg(path, file.errorString());
        return false;
    }
    return true;
}

std::optional<Project> Project::load(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QCoreApplication::translate("emloc::ui::Project", "Cannot open \"%1\": %2.")
                         .arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray bytes = file.readAll();
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const int line = static_cast<int>(bytes.left(parseError.offset).count('\n')) + 1;
        if (error)
            *error =
                QCoreApplication::translate(
                    "emloc::ui::Project",
                    "\"%1\" is not valid JSON: %2 on line %3. Fix the file in a text editor or open another "
                    "project.")
                    .arg(path, parseError.errorString())
                    .arg(line);
        return std::nullopt;
    }
    if (!document.isObject()) {
        if (error)
            *error = QCoreApplication::translate(
                         "emloc::ui::Project",
                         "\"%1\" does not hold a JSON object, so it is not an EMLoC Studio project.")
                         .arg(path);
        return std::nullopt;
    }
    QString problem;
    std::optional<Project> project = fromJson(document.object(), QFileInfo(path).absolutePath(), &problem);
    if (!project && error)
        *error = QCoreApplication::translate("emloc::ui::Project", "Cannot read the project \"%1\": %2")
                     .arg(path, problem);
    return project;
}

void Project::resolvePaths(const QString &baseDir)
{
    modelPath = absolutePath(modelPath, baseDir);
    data.trainingPath = absolutePath(data.trainingPath, baseDir);
    data.validationPath = absolutePath(data.validationPath, baseDir);
    exportSettings.outputFolder = absolutePath(exportSettings.outputFolder, baseDir);
}

QString Project::runFolder() const
{
    if (!exportSettings.outputFolder.isEmpty())
        return exportSettings.outputFolder;
    const QString model = QFileInfo(modelPath).completeBaseName();
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/runs/") +
           (model.isEmpty() ? QStringLiteral("run") : model);
}

} // namespace emloc::ui
