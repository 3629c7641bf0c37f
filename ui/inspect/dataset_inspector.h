#pragma once

#include <QString>
#include <QStringList>

#include <vector>

namespace emloc::ui {

// What the Data page shows about a training file before any engine runs: its record format, how
// many records it holds and the first few of them. Reads at most kScanBytes to count records.
struct DatasetSummary
{
    enum class Format { Unknown, Chat, PromptCompletion, Instruction, Text };
    struct Record
    {
        QString input;
        QString target;
    };

    Format format = Format::Unknown;
    QString error;    // empty when the file looks usable
    QString whatToDo; // for an error
    QStringList warnings;
    qint64 records = 0;
    bool recordsEstimated = false; // true when the file is larger than the scanned part
    qint64 sizeBytes = 0;
    std::vector<Record> preview;

    bool ok() const { return error.isEmpty() && records > 0; }
};

inline constexpr qint64 kScanBytes = 64LL * 1024 * 1024;
inline constexpr int kPreviewRecords = 8;

DatasetSummary inspectDataset(const QString &path);
QString datasetFormatName(DatasetSummary::Format format);

} // namespace emloc::ui
