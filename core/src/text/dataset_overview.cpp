#include "emloc/text/dataset_overview.h"

#include "emloc/api/error.h"

#include <filesystem>

namespace emloc::core {

namespace {

// One line per preview cell: the Data page shows a table.
std::string simplified(const std::string &text)
{
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

DatasetOverview::Preview previewOf(const DatasetRecord &record)
{
    DatasetOverview::Preview preview;
    preview.record = record.number;
    preview.images = record.images;
    if (record.format == RecordFormat::Text) {
        preview.input = simplified(record.text);
        return preview;
    }
    std::string input;
    for (const ChatMessage &message : record.messages) {
        if (message.role == "assistant")
            preview.target = message.content;
        else if (message.role != "system")
            input += (input.empty() ? "" : " ") + message.content;
    }
    if (!record.alpacaInput.empty())
        input += (input.empty() ? "" : " ") + record.alpacaInput;
    preview.input = simplified(input);
    preview.target = simplified(preview.target);
    return preview;
}

} // namespace

std::string datasetFileTypeName(DatasetFileType type)
{
    switch (type) {
    case DatasetFileType::JsonArray:
        return "json";
    case DatasetFileType::JsonLines:
        return "jsonl";
    case DatasetFileType::Text:
        return "text";
    case DatasetFileType::Csv:
        return "csv";
    case DatasetFileType::Tsv:
        return "tsv";
    }
    return "jsonl";
}

DatasetOverview overviewDataset(const std::string &path, const DatasetOverviewOptions &options)
{
    DatasetReadOptions read;
    read.format = options.format;
    DatasetReader reader(path, read);
    DatasetOverview overview;
    std::error_code error;
    overview.sizeBytes = static_cast<int64_t>(std::filesystem::file_size(path, error));
    DatasetRecord record;
    while (reader.next(record)) {
        ++overview.records;
        if (static_cast<int>(overview.preview.size()) < options.previewRecords)
            overview.preview.push_back(previewOf(record));
        if (overview.records % 64 == 0 && reader.bytesRead() >= options.scanBytes)
            break;
    }
    const int64_t scanned = reader.bytesRead();
    if (overview.records > 0 && scanned > 0 && scanned < overview.sizeBytes && reader.next(record)) {
        overview.records =
            static_cast<int64_t>(static_cast<double>(overview.records) *
                                 static_cast<double>(overview.sizeBytes) / static_cast<double>(scanned));
        overview.recordsEstimated = true;
    }
    if (overview.records == 0)
        throw Error(path +
                    ": the dataset is empty (no records): add records, one JSON object per line for .jsonl");
    overview.fileType = datasetFileTypeName(reader.fileType());
    overview.format = recordFormatName(reader.format());
    return overview;
}

} // namespace emloc::core
