#include "project/demo_project.h"

#include "installed_data.h"

#include <QFileInfo>
#include <QStandardPaths>

namespace emloc::ui {

std::optional<Project> demoProject(const QString &sourceTree)
{
    Project project;
    const QString installed = installedDataDirectory();
    if (!installed.isEmpty()) {
        const QString demo = installed + QStringLiteral("/demo/");
        project.modelPath = demo + QStringLiteral("SmolLM2-135M-Instruct.Q4_1.gguf");
        project.data.trainingPath = demo + QStringLiteral("bookings-train.jsonl");
        project.data.validationPath = demo + QStringLiteral("bookings-test.jsonl");
        project.exportSettings.outputFolder =
            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/demo-run");
    } else {
        project.modelPath = sourceTree + QStringLiteral("/.cache/models/SmolLM2-135M-Instruct");
        project.data.trainingPath = sourceTree + QStringLiteral("/resources/demo/bookings-train.jsonl");
        project.data.validationPath = sourceTree + QStringLiteral("/resources/demo/bookings-test.jsonl");
        project.exportSettings.outputFolder = sourceTree + QStringLiteral("/runs/demo-studio");
    }
    const QFileInfo model(project.modelPath);
    const bool modelReady = model.isDir()
                                ? QFileInfo::exists(project.modelPath + QStringLiteral("/model.safetensors"))
                                : model.isFile();
    if (!modelReady || !QFileInfo::exists(project.data.trainingPath))
        return std::nullopt;
    project.budget.ratio = 0.4;
    project.training.steps = 80;
    project.training.batchSize = 2;
    project.training.gradientAccumulation = 4;
    project.training.learningRate = 1e-3;
    project.training.warmupFraction = 0.05;
    project.training.maxLength = 160;
    project.exportSettings.ggufAdapter = true;
    return project;
}

} // namespace emloc::ui
