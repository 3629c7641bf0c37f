#include "inspect/dataset_inspector.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace emloc::ui {

namespace {

DatasetSummary failure(const QString &error, const QString &whatToDo)
{
    DatasetSummary summary;
    summary.error = error;
    summary.whatToDo = whatToDo;
    return summary;
}

DatasetSummary::Format formatOf(const QJsonObject &record)
{
    if (record.value("messages").isArray())
        return DatasetSummary::Format::Chat;
    if (record.contains("prompt") && (record.contains("completion") || record.contains("response")))
        return DatasetSummary::Format::PromptCompletion;
    if (record.contains("instruction") && record.contains("output"))
        return DatasetSummary::Format::Instruction;
    if (record.value("text").isString())
        return DatasetSummary::Format::Text;
    return DatasetSummary::Format::Unknown;
}

DatasetSummary::Record previewOf(const QJsonObject &record, DatasetSummary::Format format)
{
    DatasetSummary::Record preview;
    switch (format) {
    case DatasetSummary::Format::Chat: {
        QStringList inputs;
        for (const QJsonValue &message : record.value("messages").toArray()) {
            const QJsonObject object = message.toObject();
            const QString role = object.value("role").toString();
            if (role == QLatin1String("assistant"))
                preview.target = object.value("content").toString();
            else if (role != QLatin1String("system"))
                inputs << object.value("content").toString();
        }
        preview.input = inputs.join(QLatin1Char(' '));
        break;
    }
    case DatasetSummary::Format::PromptCompletion:
        preview.input = record.value("prompt").toString();
        preview.target = record.contains("completion") ? record.value("completion").toString()
                                                       : record.value("response").toString();
        break;
    case DatasetSummary::Format::Instruction:
        preview.input = record.value("instruction").toString();
        if (!record.value("input").toString().isEmpty())
            preview.input += QLatin1Char(' ') + record.value("input").toString();
        preview.target = record.value("output").toString();
        break;
    case DatasetSummary::Format::Text:
        preview.input = record.value("text").toString();
        break;
    case DatasetSummary::Format::Unknown:
        break;
    }
    // One line per cell: the preview is a table.
    preview.input = preview.input.simplified();
    preview.target = preview.target.simplified();
    return preview;
}

QString describeUnknown()
{
    return QCoreApplication::translate("emloc::ui::DatasetInspector",
                                       "Give every record \"messages\" (a chat: role + content), \"prompt\" "
                                       "+ \"completion\", \"instruction\" "
                                       "+ \"output\", or \"text\".");
}

// Checks one record and folds its format into the file's; returns an error sentence or "".
QString acceptRecord(const QJsonObject &record, qint64 number, DatasetSummary &summary)
{
    const DatasetSummary::Format format = formatOf(record);
    if (format == DatasetSummary::Format::Unknown)
        return QCoreApplication::translate("emloc::ui::DatasetInspector",
                                           "Record %1 has none of the fields EMLoC Studio reads.")
            .arg(number);
    if (summary.format == DatasetSummary::Format::Unknown)
        summary.format = format;
    else if (format != summary.format)
        return QCoreApplication::translate("emloc::ui::DatasetInspector",
                                           "Record %1 is a %2 record, but the file started with %3 records.")
            .arg(number)
            .arg(datasetFormatName(format), datasetFormatName(summary.format));
    if (static_cast<int>(summary.preview.size()) < kPreviewRecords)
        summary.preview.push_back(previewOf(record, format));
    return {};
}

DatasetSummary inspectJsonLines(QFile &file, DatasetSummary summary)
{
    qint64 lineNumber = 0;
    qint64 scanned = 0;
    while (!file.atEnd() && scanned < kScanBytes) {
        const QByteArray line = file.readLine();
        scanned += line.size();
        ++lineNumber;
        if (line.trimmed().isEmpty())
            continue;
        // Full parsing costs time on large files; the first thousand records show the format.
        if (summary.records < 1000) {
            QJsonParseError parseError;
            const QJsonDocument document = QJsonDocument::fromJson(line, &parseError);
            if (!document.isObject())
                return failure(
                    QCoreApplication::translate("emloc::ui::DatasetInspector",
                                                "Line %1 is not a JSON object (%2).")
                        .arg(lineNumber)
                        .arg(parseError.error == QJsonParseError::NoError
                                 ? QCoreApplication::translate("emloc::ui::DatasetInspector",
                                                               "it is an array or a value")
                                 : parseError.errorString()),
                    QCoreApplication::translate("emloc::ui::DatasetInspector",
                                                "A .jsonl file holds one JSON object per line. Fix "
                                                "that line in a text editor."));
            const QString problem = acceptRecord(document.object(), lineNumber, summary);
            if (!problem.isEmpty())
                return failure(problem, describeUnknown());
        }
        ++summary.records;
    }
    if (!file.atEnd() && scanned > 0) {
        summary.records =
            static_cast<qint64>(static_cast<double>(summary.records) * summary.sizeBytes / scanned);
        summary.recordsEstimated = true;
    }
    return summary;
}

DatasetSummary inspectJsonArray(QFile &file, DatasetSummary summary)
{
    if (summary.sizeBytes > 4 * kScanBytes)
        return failure(
            QCoreApplication::translate("emloc::ui::DatasetInspector",
                                        "The file is too large to read as one JSON array."),
            QCoreApplication::translate("emloc::ui::DatasetInspector",
                                        "Convert it to JSON Lines (.jsonl, one record per line)."));
    QJsonParseError parseError;
    const QByteArray bytes = file.readAll();
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const qint64 line = bytes.left(parseError.offset).count('\n') + 1;
        return failure(
            QCoreApplication::translate("emloc::ui::DatasetInspector",
                                        "The file is not valid JSON: %1 on line %2.")
                .arg(parseError.errorString())
                .arg(line),
            QCoreApplication::translate("emloc::ui::DatasetInspector", "Fix the file in a text editor."));
    }
    if (!document.isArray())
        return failure(QCoreApplication::translate("emloc::ui::DatasetInspector",
                                                   "The file does not hold a JSON array of records."),
                       describeUnknown());
    const QJsonArray records = document.array();
    for (qsizetype i = 0; i < records.size(); ++i) {
        const QString problem = acceptRecord(records.at(i).toObject(), i + 1, summary);
        if (!problem.isEmpty())
            return failure(problem, describeUnknown());
        ++summary.records;
    }
    return summary;
}

} // namespace

QString datasetFormatName(DatasetSummary::Format format)
{
    switch (format) {
    case DatasetSummary::Format::Chat:
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "chat (messages)");
    case DatasetSummary::Format::PromptCompletion:
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "prompt and completion");
    case DatasetSummary::Format::Instruction:
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "instruction and output");
    case DatasetSummary::Format::Text:
        return QCoreApplication::translate("emloc::ui::DatasetInspector", "plain text");
    case DatasetSummary::Format::Unknown:
        break;
    }
    return QCoreApplication::translate("emloc::ui::DatasetInspector", "unknown");
}

DatasetSummary inspectDataset(const QString &path)
{
    if (path.isEmpty())
        return {};
    const QFileInfo info(path);
    if (!info.exists())
        return failure(
            QCoreApplication::translate("emloc::ui::DatasetInspector", "%1 does not exist.")
                .arg(QDir::toNativeSeparators(path)),
            QCoreApplication::translate("emloc::ui::DatasetInspector",
                                        "Check the path, or choose the file with the Browse… button."));
    if (info.isDir())
        return failure(QCoreApplication::translate("emloc::ui::DatasetInspector", "%1 is a folder.")
                           .arg(QDir::toNativeSeparators(path)),
                       QCoreApplication::translate("emloc::ui::DatasetInspector",
                                                   "Choose a .jsonl or .json file with training records."));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return failure(
            QCoreApplication::translate("emloc::ui::DatasetInspector", "Cannot read %1: %2.")
                .arg(QDir::toNativeSeparators(path), file.errorString()),
            QCoreApplication::translate("emloc::ui::DatasetInspector", "Check the file's permissions."));
    DatasetSummary summary;
    summary.sizeBytes = info.size();
    const bool isArray = info.suffix().compare(QLatin1String("json"), Qt::CaseInsensitive) == 0;
    summary = isArray ? inspectJsonArray(file, summary) : inspectJsonLines(file, summary);
    if (summary.error.isEmpty() && summary.records == 0)
        return failure(
            QCoreApplication::translate("emloc::ui::DatasetInspector", "The file holds no records."),
            QCoreApplication::translate("emloc::ui::DatasetInspector",
                                        "Add training records, one JSON object per line."));
    if (summary.error.isEmpty() && summary.records < 16) {
        const int records = static_cast<int>(summary.records);
        const QString warning = QCoreApplication::translate(
            "emloc::ui::DatasetInspector",
            "Only %n record(s): fine-tuning needs more examples to learn anything.", nullptr, records);
        summary.warnings << warning;
    }
    return summary;
}

} // namespace emloc::ui
