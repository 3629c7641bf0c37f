#pragma once

#include <QString>
#include <QStringList>

namespace emloc::ui {

// What the Model page shows about a chosen model before any engine runs: read from config.json and
// the safetensors headers of a Hugging Face folder, or from the header of a GGUF file. Reads only
// metadata (kilobytes), never the weights.
struct ModelSummary
{
    enum class Format { None, HuggingFaceFolder, Gguf };
    Format format = Format::None;
    QString error;    // empty when the model looks usable
    QString whatToDo; // for an error
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

    bool ok() const { return format != Format::None && error.isEmpty(); }
};

ModelSummary inspectModel(const QString &path);

} // namespace emloc::ui
