#pragma once
// What the Model and Data pages show about the chosen files before any run. The engine reads them
// (app/gui/engine_inspect.cpp, with core's own readers), so the pages accept and refuse exactly what a
// run and the CLI do.

#include <QImage>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace emloc::ui {

struct ModelSummary
{
    enum class Format { None, HuggingFaceFolder, Gguf };
    Format format = Format::None;
    QString error; // empty when the model can be used; says what to do
    QStringList warnings;

    QString name;
    QString architecture;
    int layers = 0;
    int hiddenSize = 0;
    int vocabularySize = 0;
    int contextLength = 0;
    qint64 parameters = 0;
    qint64 sizeOnDiskBytes = 0;
    int weightFiles = 0;
    QString storageType; // "bfloat16", "Q4_1", ...
    // A vision-language model's other parts, for people ("InternViT, 24 layers, ..."); empty for text models.
    QString visionTower;
    QString projector;
    QString imageTiles;
    qint64 visionTowerParameters = 0;
    qint64 projectorParameters = 0;

    bool ok() const { return format != Format::None && error.isEmpty(); }
    // The files were read, whether or not the model can be fine-tuned: their facts can be shown.
    bool read() const { return format != Format::None; }
};

struct DatasetSummary
{
    struct Image
    {
        QImage thumbnail; // null when the image cannot be read
        QString note;     // its file name, or why it cannot be read
    };
    struct Record
    {
        QString input;
        QString target;
        std::vector<Image> images; // a vision-language dataset's, in order
    };

    QString fileType; // core's names: "jsonl", "json", "csv", "tsv", "text"
    QString format;   // core's names: "alpaca", "messages", "sharegpt", "prompt-completion", "text"
    QString error;    // empty when the file can be trained on; says what to do
    QStringList warnings;
    qint64 records = 0;
    bool recordsEstimated = false; // true when the file is larger than the part read
    qint64 sizeBytes = 0;
    std::vector<Record> preview;

    bool ok() const { return error.isEmpty() && records > 0; }
};

inline constexpr int kPreviewRecords = 8;

using ModelInspector = std::function<ModelSummary(const QString &path)>;
using DatasetInspector = std::function<DatasetSummary(const QString &path)>;

// The record format as people say it ("chat (messages)"), from core's name of it.
QString datasetFormatName(const QString &format);

} // namespace emloc::ui
