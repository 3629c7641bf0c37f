#pragma once

#include "emloc/api/run_choices.h"
#include "emloc/text/chat_template.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

namespace text {
class DelimitedRecordReader;
}

// How a training file is laid out on disk. Csv and Tsv: a header row names the columns, which are read
// as a JSON record's fields are.
enum class DatasetFileType { JsonArray, JsonLines, Text, Csv, Tsv };

// What each record holds (RecordFormat, emloc/api/run_choices.h). Auto is resolved from the first
// record's fields. Parse accepts the table's names and other spellings and throws Error listing them.
RecordFormat parseRecordFormat(const std::string &name);
std::string recordFormatName(RecordFormat format);

// One training record, normalised: a conversation (Alpaca, messages, ShareGPT and prompt/completion all
// become one), or a plain document (Text). Alpaca's input is kept apart so the alpaca template can show it
// under "### Input:".
struct DatasetRecord
{
    int64_t number = 0; // 1-based record number in the file
    int64_t line = 0;   // 1-based line where the record starts
    RecordFormat format = RecordFormat::Text;
    std::vector<ChatMessage> messages; // conversations
    std::string alpacaInput;           // Alpaca's optional "input"
    std::string text;                  // Text
    // The images, in the order of their "<image>" placeholders in the messages (image_placeholders.h):
    // file paths (relative ones resolved against the dataset file's folder; each checked to exist) or
    // data: URLs. From an "image" / "images" field (InternVL, LLaVA, ShareGPT) or image content parts
    // (OpenAI messages). A record with images but no placeholder gets InternVL's before its first user
    // turn; a count that differs from the images' is an Error naming the record.
    std::vector<std::string> images;
};

// The "<image>" placeholders in a record's text (its messages and Alpaca input).
size_t countImagePlaceholders(const DatasetRecord &record);

struct DatasetReadOptions
{
    RecordFormat format = RecordFormat::Auto;
    int64_t sampleLimit = 0; // read at most this many records; 0: all
};

// Reads a dataset record by record. JSON Lines, CSV, TSV and text files are streamed record by record, so
// memory does not grow with the file; a JSON array file is parsed whole. Errors name the file, the line and
// column (invalid JSON), the line and byte offset (invalid UTF-8), or the record number and field (missing or
// mistyped fields). Not thread-safe; one reader per thread.
class DatasetReader
{
public:
    // The file type comes from the extension (.jsonl/.ndjson: JSON Lines; .csv, .tsv; .txt: text) or, for
    // .json and others, from the first character ([: a JSON array, {: JSON Lines). A CSV or TSV header
    // is checked here: Error (file:line) when its columns fit no format (alpaca, prompt-completion, text).
    explicit DatasetReader(std::string path, DatasetReadOptions options = {});
    ~DatasetReader();

    // Fills `record` and returns true, or returns false at the end (or at the sample limit).
    bool next(DatasetRecord &record);

    DatasetFileType fileType() const { return m_fileType; }
    // The record format in use: resolved from the first record when Auto was asked for.
    RecordFormat format() const { return m_format; }
    int64_t recordsRead() const { return m_recordsRead; }
    int64_t linesRead() const { return m_line; }
    // Bytes of the file consumed so far (all of it for a JSON array, parsed whole): with the file's size,
    // how far a scan has come.
    int64_t bytesRead();
    const std::string &path() const { return m_path; }

private:
    bool nextJson(nlohmann::json &value, int64_t &line);
    DatasetRecord convert(const nlohmann::json &value, int64_t number, int64_t line);
    void readRecordImages(const nlohmann::json &value, const std::string &where, DatasetRecord &record) const;
    std::string resolveImage(std::string image, const std::string &where) const;
    void readTableHeader();
    bool nextTableRecord(nlohmann::json &value, int64_t &line);

    std::string m_path;
    DatasetReadOptions m_options;
    DatasetFileType m_fileType = DatasetFileType::JsonLines;
    RecordFormat m_format = RecordFormat::Auto;
    std::ifstream m_stream;
    int64_t m_line = 0;
    int64_t m_byteOffset = 0; // of the next line
    int64_t m_recordsRead = 0;
    nlohmann::json m_array; // JSON array files only
    size_t m_arrayIndex = 0;
    std::vector<int64_t> m_arrayLines;                    // line where each array element starts
    std::unique_ptr<text::DelimitedRecordReader> m_table; // CSV and TSV files only
    std::vector<std::string> m_columns;                   // their header
};

// Reads every record (up to the sample limit); throws Error when the file holds none.
std::vector<DatasetRecord> readDataset(const std::string &path, const DatasetReadOptions &options = {});

} // namespace emloc::core
