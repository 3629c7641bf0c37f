#pragma once

#include "emloc/api/run_defaults.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace emloc::ui {

// core's default LoRA targets: the seven projections of a decoder layer.
QStringList defaultTargetModules();

// LoRA and optimizer settings; the defaults are core's (emloc/api/run_defaults.h), as `emloc run` has them.
struct TrainingSettings
{
    int loraRank = int(core::run_defaults::kLoraRank.value);
    double loraAlpha = core::run_defaults::kLoraAlpha.value;
    double loraDropout = core::run_defaults::kLoraDropout.value;
    QStringList targetModules = defaultTargetModules();
    double learningRate = core::run_defaults::kLearningRate.value;
    int batchSize = int(core::run_defaults::kBatch.value);
    int gradientAccumulation = int(core::run_defaults::kGradAccum.value);
    int steps = int(core::run_defaults::kSteps.value); // optimizer steps; 0: from `epochs`
    double epochs = core::run_defaults::kEpochs.value;
    double warmupFraction = core::run_defaults::kWarmupRatio.value;
    double weightDecay = core::run_defaults::kWeightDecay.value;
    int maxLength = int(core::run_defaults::kMaxLength.value);
    int evaluationInterval =
        int(core::run_defaults::kEvalEvery.value); // steps between validations; 0: at the end
    bool gradientCheckpointing = core::run_defaults::kGradientCheckpointing;
    int seed = int(core::run_defaults::kSeed.value);

    bool operator==(const TrainingSettings &other) const;
    bool operator!=(const TrainingSettings &other) const { return !(*this == other); }
};

// How the emulator is sized: by a memory budget (the planner picks the ratio) or by a ratio.
struct BudgetSettings
{
    enum class Mode { MemoryBudget, Ratio };
    QString device; // "cpu", "cuda:0"; empty: the first GPU, else the CPU
    Mode mode = Mode::Ratio;
    double budgetGiB = 8.0; // the field's starting value once the user switches to a budget
    double ratio = core::run_defaults::kRatio.value; // fraction of each compressed layer's parameters kept
    int calibrationSamples = int(core::run_defaults::kCalibrationSamples.value);
    // A vision-language model's vision tower: the ratio its linears are compressed at; 0 keeps it dense.
    double visionRatio = core::run_defaults::kVisionRatio.value;

    bool operator==(const BudgetSettings &other) const;
    bool operator!=(const BudgetSettings &other) const { return !(*this == other); }
};

struct DataSettings
{
    QString trainingPath;
    QString validationPath; // the held-out test file the evaluation runs on (core's data.test); optional
    // The share of the training file held out for the validation loss while training; 0: none.
    double validationFraction = core::run_defaults::kValidationFraction.value;

    bool operator==(const DataSettings &other) const;
    bool operator!=(const DataSettings &other) const { return !(*this == other); }
};

struct ExportSettings
{
    QString outputFolder;
    bool peftAdapter = true;      // adapter_model.safetensors + adapter_config.json
    bool mergedModel = false;     // the original model with the corrected LoRA merged in (safetensors)
    bool ggufAdapter = false;     // a GGUF LoRA adapter for llama.cpp, Ollama, LM Studio
    bool ollama = false;          // a folder `ollama create` reads: Modelfile, base GGUF, GGUF LoRA
    bool visionProjector = false; // a vision-language model's tower as llama.cpp's mmproj GGUF

    bool operator==(const ExportSettings &other) const;
    bool operator!=(const ExportSettings &other) const { return !(*this == other); }
};

// Everything a run needs. Saved (*.emloc) as the run configuration document core reads (the same keys
// `emloc run` reads), plus what only the window needs; paths are stored relative to the project file
// where they lie beside or below it, so a project folder can be moved as a whole.
struct Project
{
    QString modelPath;
    DataSettings data;
    BudgetSettings budget;
    TrainingSettings training;
    ExportSettings exportSettings;
    // The run configuration's settings that no page has a field for, in the configuration file's own
    // form (core's schema, as `emloc run` reads it), e.g. {"train": {"schedule": "linear"}, "evaluate":
    // {"metric": "contains"}}. Kept verbatim; the engine checks it with the configuration reader.
    QJsonObject advanced;

    bool operator==(const Project &other) const;
    bool operator!=(const Project &other) const { return !(*this == other); }

    // Where a run writes its stages (emulator/, train/, corrected-adapter/, summary.json) and exports:
    // the Export page's folder, or a folder per model under the application's data folder.
    QString runFolder() const;

    // The run configuration document this project stands for: the pages' fields under core's keys over
    // the advanced settings (a page's value wins). `baseDir`: paths relative to it; empty keeps them as
    // they are. The output is the Export page's folder, empty when none is chosen.
    QJsonObject runDocument(const QString &baseDir = {}) const;
    // The dotted keys the pages set ("train.lora.rank"); every other key of a run document is advanced.
    static const QStringList &pageKeys();
    // The project a run document describes: the pages' keys into the fields (an absent key keeps the
    // default), every other setting into the advanced settings. A wrong type is an error naming the key
    // (after `fieldPrefix`, where the document sits in a file).
    static std::optional<Project> fromRunDocument(const QJsonObject &run, const QString &baseDir,
                                                  QString *error, const QString &fieldPrefix = {});

    // The project file's document: {"format", "version", "run": runDocument(baseDir), "studio": window
    // state}. `baseDir` is the folder of the project file; empty keeps paths as they are.
    QJsonObject toJson(const QString &baseDir = {}) const;
    // Reads this version's files and migrates version 1's (typed sections and an advanced object).
    // Missing fields keep their defaults (older or hand-written files); wrong types are errors.
    static std::optional<Project> fromJson(const QJsonObject &json, const QString &baseDir, QString *error);

    // Atomic (QSaveFile). On failure returns false and sets `error` to a sentence for a person.
    bool save(const QString &path, QString *error) const;
    static std::optional<Project> load(const QString &path, QString *error);

private:
    QJsonObject pageDocument(const QString &baseDir = {}) const;
    // The paths read from a project file, made absolute against the file's folder.
    void resolvePaths(const QString &baseDir);
    static std::optional<Project> fromVersion1(const QJsonObject &json, const QString &baseDir,
                                               QString *error);
};

inline constexpr const char *kProjectFormat = "emloc-studio-project";
inline constexpr int kProjectFormatVersion = 2; // 2: the run configuration document embedded
inline constexpr const char *kProjectSuffix = "emloc";

} // namespace emloc::ui
