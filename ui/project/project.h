#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace emloc::ui {

// core's default LoRA targets: the seven projections of a decoder layer.
QStringList defaultTargetModules();

// LoRA and optimizer settings; the defaults are the reference recipe of the EMLoC paper.
struct TrainingSettings
{
    int loraRank = 8;
    double loraAlpha = 16;
    double loraDropout = 0.05;
    QStringList targetModules = defaultTargetModules();
    double learningRate = 2e-4;
    int batchSize = 2;
    int gradientAccumulation = 4;
    int steps = 500;
    double warmupFraction = 0.03;
    double weightDecay = 0.01;
    int maxLength = 512;
    int evaluationInterval = 50; // optimizer steps between validation passes
    bool gradientCheckpointing = true;
    int seed = 42;

    bool operator==(const TrainingSettings &other) const;
    bool operator!=(const TrainingSettings &other) const { return !(*this == other); }
};

// How the emulator is sized: by a memory budget (the planner picks the ratio) or by a ratio.
struct BudgetSettings
{
    enum class Mode { MemoryBudget, Ratio };
    QString device; // "cpu", "cuda:0"; empty: the first GPU, else the CPU
    Mode mode = Mode::Ratio;
    double budgetGiB = 8.0;
    double ratio = 0.4; // fraction of each compressed layer's parameters kept (paper: 0.4)
    int calibrationSamples = 64;

    bool operator==(const BudgetSettings &other) const;
    bool operator!=(const BudgetSettings &other) const { return !(*this == other); }
};

struct DataSettings
{
    QString trainingPath;
    QString validationPath; // empty: hold out validationFraction of the training data
    double validationFraction = 0.05;

    bool operator==(const DataSettings &other) const;
    bool operator!=(const DataSettings &other) const { return !(*this == other); }
};

struct ExportSettings
{
    QString outputFolder;
    bool peftAdapter = true;  // adapter_model.safetensors + adapter_config.json
    bool mergedModel = false; // the original model with the corrected LoRA merged in (safetensors)
    bool ggufAdapter = false; // a GGUF LoRA adapter for llama.cpp, Ollama, LM Studio

    bool operator==(const ExportSettings &other) const;
    bool operator!=(const ExportSettings &other) const { return !(*this == other); }
};

// Everything a run needs, saved as one JSON document (*.emloc). Paths are stored relative to the
// project file where they lie beside or below it, so a project folder can be moved as a whole.
struct Project
{
    QString modelPath;
    DataSettings data;
    BudgetSettings budget;
    TrainingSettings training;
    ExportSettings exportSettings;

    bool operator==(const Project &other) const;
    bool operator!=(const Project &other) const { return !(*this == other); }

    // Where a run writes its stages (emulator/, train/, corrected-adapter/, summary.json) and exports:
    // the Export page's folder, or a folder per model under the application's data folder.
    QString runFolder() const;

    // `baseDir` is the folder of the project file; empty keeps paths as they are.
    QJsonObject toJson(const QString &baseDir = {}) const;
    // Missing fields keep their defaults (older or hand-written files); wrong types are errors.
    static std::optional<Project> fromJson(const QJsonObject &json, const QString &baseDir, QString *error);

    // Atomic (QSaveFile). On failure returns false and sets `error` to a sentence for a person.
    bool save(const QString &path, QString *error) const;
    static std::optional<Project> load(const QString &path, QString *error);
};

inline constexpr const char *kProjectFormat = "emloc-studio-project";
inline constexpr int kProjectFormatVersion = 1;
inline constexpr const char *kProjectSuffix = "emloc";

} // namespace emloc::ui
