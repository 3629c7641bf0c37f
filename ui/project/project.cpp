#include "project/project.h"

#include "emloc/api/projections.h"

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

QString relativePath(const QString &path, const QString &baseDir)
{
    if (path.isEmpty() || baseDir.isEmpty())
        return path;
    const QString relative = QDir(baseDir).relativeFilePath(path);
    // Paths outside the project folder stay absolute: "../../x" breaks when the project moves.
    return relative.startsWith(QLatin1String("..")) ? QDir::cleanPath(path) : relative;
}

QString absolutePath(const QString &path, const QString &baseDir)
{
    if (path.isEmpty() || baseDir.isEmpty() || QDir::isAbsolutePath(path))
        return path;
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(path));
}

// Reads typed fields and remembers the first error, naming the field the way it appears in the file.
class FieldReader
{
public:
    FieldReader(const QJsonObject &object, QString prefix) : m_object(object), m_prefix(std::move(prefix)) {}

    FieldReader child(const char *key, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (!value.isUndefined() && !value.isObject())
            fail(key, QCoreApplication::translate("emloc::ui::Project", "an object"), error);
        return FieldReader(value.toObject(), m_prefix + QLatin1String(key) + QLatin1Char('.'));
    }

    void read(const char *key, QString &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        if (!value.isString())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "a text"), error);
        target = value.toString();
    }
    void read(const char *key, double &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        if (!value.isDouble())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "a number"), error);
        target = value.toDouble();
    }
    void read(const char *key, int &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        if (!value.isDouble() || value.toDouble() != std::floor(value.toDouble()))
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "a whole number"), error);
        target = value.toInt();
    }
    void read(const char *key, bool &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        if (!value.isBool())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "true or false"), error);
        target = value.toBool();
    }
    void read(const char *key, QJsonObject &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        if (!value.isObject())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "an object"), error);
        target = value.toObject();
    }
    void read(const char *key, QStringList &target, QString *error)
    {
        const QJsonValue value = m_object.value(QLatin1String(key));
        if (value.isUndefined())
            return;
        QStringList list;
        for (const QJsonValue &item : value.toArray()) {
            if (!item.isString())
                return fail(key, QCoreApplication::translate("emloc::ui::Project", "a list of texts"), error);
            list << item.toString();
        }
        if (!value.isArray())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "a list of texts"), error);
        target = list;
    }

private:
    void fail(const char *key, const QString &expected, QString *error)
    {
        if (error && error->isEmpty())
            *error = QCoreApplication::translate("emloc::ui::Project", "The field \"%1\" must be %2.")
                         .arg(m_prefix + QLatin1String(key), expected);
    }

    QJsonObject m_object;
    QString m_prefix;
};

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
           nearlyEqual(ratio, o.ratio) && calibrationSamples == o.calibrationSamples;
}

bool DataSettings::operator==(const DataSettings &o) const
{
    return trainingPath == o.trainingPath && validationPath == o.validationPath &&
           nearlyEqual(validationFraction, o.validationFraction);
}

bool ExportSettings::operator==(const ExportSettings &o) const
{
    return outputFolder == o.outputFolder && peftAdapter == o.peftAdapter && mergedModel == o.mergedModel &&
           ggufAdapter == o.ggufAdapter;
}

bool Project::operator==(const Project &o) const
{
    return modelPath == o.modelPath && data == o.data && budget == o.budget && training == o.training &&
           exportSettings == o.exportSettings && advanced == o.advanced;
}

QJsonObject Project::toJson(const QString &baseDir) const
{
    const TrainingSettings &t = training;
    return QJsonObject{
        {"format", QLatin1String(kProjectFormat)},
        {"version", kProjectFormatVersion},
        {"model", QJsonObject{{"path", relativePath(modelPath, baseDir)}}},
        {"data", QJsonObject{{"training", relativePath(data.trainingPath, baseDir)},
                             {"validation", relativePath(data.validationPath, baseDir)},
                             {"validationFraction", data.validationFraction}}},
        {"budget", QJsonObject{{"device", budget.device},
                               {"mode", budget.mode == BudgetSettings::Mode::Ratio ? "ratio" : "memory"},
                               {"budgetGiB", budget.budgetGiB},
                               {"ratio", budget.ratio},
                               {"calibrationSamples", budget.calibrationSamples}}},
        {"training", QJsonObject{{"loraRank", t.loraRank},
                                 {"loraAlpha", t.loraAlpha},
                                 {"loraDropout", t.loraDropout},
                                 {"targetModules", QJsonArray::fromStringList(t.targetModules)},
                                 {"learningRate", t.learningRate},
                                 {"batchSize", t.batchSize},
                                 {"gradientAccumulation", t.gradientAccumulation},
                                 {"steps", t.steps},
                                 {"epochs", t.epochs},
                                 {"warmupFraction", t.warmupFraction},
                                 {"weightDecay", t.weightDecay},
                                 {"maxLength", t.maxLength},
                                 {"evaluationInterval", t.evaluationInterval},
                                 {"gradientCheckpointing", t.gradientCheckpointing},
                                 {"seed", t.seed}}},
        {"export", QJsonObject{{"outputFolder", relativePath(exportSettings.outputFolder, baseDir)},
                               {"peftAdapter", exportSettings.peftAdapter},
                               {"mergedModel", exportSettings.mergedModel},
                               {"ggufAdapter", exportSettings.ggufAdapter}}},
        {"advanced", advanced},
    };
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
    project.modelPath = absolutePath(project.modelPath, baseDir);
    project.data.trainingPath = absolutePath(project.data.trainingPath, baseDir);
    project.data.validationPath = absolutePath(project.data.validationPath, baseDir);
    project.exportSettings.outputFolder = absolutePath(project.exportSettings.outputFolder, baseDir);
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

QString Project::runFolder() const
{
    if (!exportSettings.outputFolder.isEmpty())
        return exportSettings.outputFolder;
    const QString model = QFileInfo(modelPath).completeBaseName();
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/runs/") +
           (model.isEmpty() ? QStringLiteral("run") : model);
}

} // namespace emloc::ui
