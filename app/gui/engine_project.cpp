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

nlohmann::json::json_pointer pointer(const std::string &dottedKey)
{
    std::string path;
    for (char c : dottedKey)
        path += c == '.' ? '/' : c;
    return nlohmann::json::json_pointer("/" + path);
}

nlohmann::json fromQt(const QJsonObject &object)
{
    const QByteArray bytes = QJsonDocument(object).toJson(QJsonDocument::Compact);
    return nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size());
}

// Removes the objects that removals left empty.
void pruneEmptyObjects(nlohmann::json &object)
{
    for (auto it = object.begin(); it != object.end();) {
        if (it->is_object()) {
            pruneEmptyObjects(*it);
            if (it->empty()) {
                it = object.erase(it);
                continue;
            }
        }
        ++it;
    }
}

QJsonObject toQt(const nlohmann::json &document)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(document.dump())).object();
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
    const nlohmann::json advanced = fromQt(project.advanced);
    for (const QString &pageKey : ui::Project::pageKeys()) {
        const std::string key = text(pageKey);
        if (advanced.contains(pointer(key)))
            throw core::Error(source + ": '" + key +
                              "' is set on the Studio's pages (Model, Data, Budget, Export); remove it here");
        // A section the pages add keys to must be one ("train": 5 would be replaced, not reported).
        for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
            const auto section = pointer(key.substr(0, dot));
            if (advanced.contains(section) && !advanced.at(section).is_object())
                throw core::Error(source + ": '" + key.substr(0, dot) + "' must be a JSON object ({...})");
        }
    }
    nlohmann::json run = fromQt(project.runDocument());
    run["output"] = text(project.runFolder()); // the Export page's folder, else one per model
    core::PipelineConfig config = core::pipelineConfigFromJson(run, source, "", "", paths);
    if (config.device.empty()) // the project leaves the choice to the Studio: the first GPU, else the CPU
        config.device = torch::cuda::is_available() ? "cuda:0" : "cpu";
    return config;
}

ui::Project projectFor(const core::PipelineConfig &config)
{
    // The pages' keys, and every other setting that differs from core's default (the advanced settings).
    nlohmann::json run = config.toJson();
    const nlohmann::json defaults = core::PipelineConfig().toJson();
    const QStringList &pageKeys = ui::Project::pageKeys();
    for (const std::string &key : settingKeys(run)) {
        const auto at = pointer(key);
        if (!pageKeys.contains(QString::fromStdString(key)) && defaults.contains(at) &&
            run.at(at) == defaults.at(at))
            run[at.parent_pointer()].erase(at.back());
    }
    pruneEmptyObjects(run);
    QString error;
    std::optional<ui::Project> project = ui::Project::fromRunDocument(toQt(run), QString(), &error);
    if (!project) // core's own document has the types the project reads
        throw core::Error("the run configuration does not map onto a project: " + text(error));
    return *project;
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
