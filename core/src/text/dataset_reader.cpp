// Dataset files: JSON Lines, CSV, TSV and text streamed record by record, JSON arrays parsed whole; records
// normalised to conversations or documents with errors that name the file, line, column, record and field.
#include "emloc/text/dataset_reader.h"

#include "delimited_records.h"
#include "emloc/api/error.h"
#include "emloc/io/utf8.h"
#include "emloc/text/image_placeholders.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sys/stat.h>

namespace emloc::core {

namespace {

std::string lowerExtension(const std::string &path)
{
    size_t slash = path.find_last_of('/');
    size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return {};
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1, column 5: " prefix.
std::string parseErrorReason(const std::string &what)
{
    size_t at = what.find("column ");
    if (at != std::string::npos) {
        size_t colon = what.find(": ", at);
        if (colon != std::string::npos)
            return what.substr(colon + 2);
    }
    size_t bracket = what.find("] ");
    return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

// Where an image content part points: {"type": "image_url", "image_url": {"url": ...}} (OpenAI) or
// {"type": "image", "image" | "url" | "path": ...} (transformers' chat messages).
std::string imagePartSource(const nlohmann::json &part, const std::string &where, const std::string &label)
{
    if (part.contains("image_url")) {
        const nlohmann::json &url = part["image_url"];
        if (url.is_string())
            return url.get<std::string>();
        if (url.is_object() && url.contains("url") && url["url"].is_string())
            return url["url"].get<std::string>();
    }
    for (const char *key : {"image", "url", "path"})
        if (part.contains(key) && part[key].is_string())
            return part[key].get<std::string>();
    throw Error(where + ": field \"" + label +
                "\" is an image part without a path or URL (image_url.url, image, url or path)");
}

std::string jsonTypeName(const nlohmann::json &value)
{
    return value.type_name(); // "null", "boolean", "number", "string", "array", "object"
}

// The formats of flat records (no list of messages) with the fields each needs, in the order they are
// recognised: JSON records and CSV/TSV headers are mapped by the same rules.
struct FlatFormat
{
    RecordFormat format;
    std::vector<const char *> fields;
};
const std::vector<FlatFormat> kFlatFormats = {
    {RecordFormat::Alpaca, {"instruction", "output"}},
    {RecordFormat::PromptCompletion, {"prompt", "completion"}},
    {RecordFormat::Text, {"text"}},
};
const char *const kTableColumns =
    "instruction and output (optional: input, system), prompt and completion, or text";
// A header wider than any dataset's is a binary or misnamed file, not a table to hold in memory.
constexpr size_t kMaxTableColumns = 1024;

bool hasFields(const nlohmann::json &object, const std::vector<const char *> &fields)
{
    return std::all_of(fields.begin(), fields.end(),
                       [&](const char *field) { return object.contains(field); });
}

// Auto when the fields fit no flat format.
RecordFormat flatRecordFormat(const nlohmann::json &object)
{
    for (const auto &flat : kFlatFormats)
        if (hasFields(object, flat.fields))
            return flat.format;
    return RecordFormat::Auto;
}

std::string trimSpaces(const std::string &text)
{
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::string joined(const std::vector<std::string> &items)
{
    std::string text;
    for (const auto &item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

} // namespace

size_t countImagePlaceholders(const DatasetRecord &record)
{
    size_t count = countImagePlaceholders(record.alpacaInput);
    for (const ChatMessage &message : record.messages)
        count += countImagePlaceholders(message.content);
    return count;
}

RecordFormat parseRecordFormat(const std::string &name)
{
    if (const std::optional<RecordFormat> format = choiceFromName(kRecordFormatChoices, name))
        return *format;
    throw Error("unknown dataset format \"" + name + "\": use " + choiceNames(kRecordFormatChoices, " or "));
}

std::string recordFormatName(RecordFormat format)
{
    return choiceName(kRecordFormatChoices, format);
}

DatasetReader::DatasetReader(std::string path, DatasetReadOptions options)
    : m_path(std::move(path)), m_options(options), m_format(options.format)
{
    // A folder opens as a stream and reads as no bytes: it would pass for an empty dataset.
    struct stat pathStat
    {};
    if (::stat(m_path.c_str(), &pathStat) == 0 && S_ISDIR(pathStat.st_mode))
        throw Error("the dataset path " + m_path +
                    " is a folder; give a .jsonl, .json, .csv, .tsv or .txt file");
    m_stream.open(m_path, std::ios::binary);
    if (!m_stream)
        throw Error("cannot open the dataset file " + m_path + ": check that it exists and is readable");
    std::string ext = lowerExtension(m_path);
    // The first significant character tells a JSON array from JSON Lines in a .json (or unknown) file.
    char first = '\0';
    {
        std::streampos start = m_stream.tellg();
        int c;
        int skippedBom = 0;
        while ((c = m_stream.get()) != EOF) {
            if (skippedBom < 3 && (c == 0xEF || c == 0xBB || c == 0xBF)) {
                ++skippedBom;
                continue;
            }
            if (!std::isspace(c)) {
                first = static_cast<char>(c);
                break;
            }
        }
        m_stream.clear();
        m_stream.seekg(start);
    }
    if (ext == "csv")
        m_fileType = DatasetFileType::Csv;
    else if (ext == "tsv")
        m_fileType = DatasetFileType::Tsv;
    else if (ext == "txt" || ext == "text" || ext == "md")
        m_fileType = DatasetFileType::Text;
    else if (ext == "jsonl" || ext == "ndjson")
        m_fileType = DatasetFileType::JsonLines;
    else if (first == '[')
        m_fileType = DatasetFileType::JsonArray;
    else if (first == '{' || ext == "jsonl" || ext == "ndjson" || ext == "json")
        m_fileType = DatasetFileType::JsonLines;
    else
        m_fileType = DatasetFileType::Text;

    if (m_fileType == DatasetFileType::Text && m_format == RecordFormat::Auto)
        m_format = RecordFormat::Text;
    if (m_fileType == DatasetFileType::Text && m_format != RecordFormat::Text)
        throw Error(m_path +
                    ": a text file holds one document per line, so only the text format applies (asked: " +
                    recordFormatName(m_format) + ")");
    if (m_fileType == DatasetFileType::Csv || m_fileType == DatasetFileType::Tsv)
        readTableHeader();

    if (m_fileType == DatasetFileType::JsonArray) {
        std::string content((std::istreambuf_iterator<char>(m_stream)), std::istreambuf_iterator<char>());
        m_stream.close();
        size_t bad = unicode::findInvalidUtf8(content);
        if (bad != std::string::npos) {
            int64_t line =
                1 + std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
            throw Error(m_path + ": line " + std::to_string(line) + " (byte offset " + std::to_string(bad) +
                        ") is not valid UTF-8: save the file as UTF-8");
        }
        try {
            m_array = nlohmann::json::parse(content);
        } catch (const nlohmann::json::parse_error &error) {
            size_t offset = error.byte > 0 ? std::min<size_t>(error.byte - 1, content.size()) : 0;
            int64_t line =
                1 + std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
            size_t lineStart = content.rfind('\n', offset == 0 ? 0 : offset - 1);
            lineStart = (lineStart == std::string::npos || offset == 0) ? 0 : lineStart + 1;
            throw Error(m_path + ":" + std::to_string(line) + ":" + std::to_string(offset - lineStart + 1) +
                        ": invalid JSON: " + parseErrorReason(error.what()));
        } catch (const nlohmann::json::exception &error) { // a number too large for a double
            throw Error(m_path + ": invalid JSON: " + parseErrorReason(error.what()));
        }
        if (!m_array.is_array())
            throw Error(m_path +
                        ": a .json dataset must be an array of records (or JSON Lines, one record per line)");
        // Where each top-level element starts, for error messages.
        int depth = 0;
        bool inString = false, expectValue = false;
        int64_t line = 1;
        for (size_t i = 0; i < content.size(); ++i) {
            char c = content[i];
            if (c == '\n')
                ++line;
            if (inString) {
                if (c == '\\')
                    ++i;
                else if (c == '"')
                    inString = false;
                continue;
            }
            if (depth == 1 && expectValue && !std::isspace(static_cast<unsigned char>(c)) && c != ']') {
                m_arrayLines.push_back(line);
                expectValue = false;
            }
            if (c == '"')
                inString = true;
            else if (c == '[' || c == '{') {
                ++depth;
                if (depth == 1)
                    expectValue = true;
            } else if (c == ']' || c == '}')
                --depth;
            else if (c == ',' && depth == 1)
                expectValue = true;
        }
    }
}

DatasetReader::~DatasetReader() = default;

int64_t DatasetReader::bytesRead()
{
    if (!m_stream.is_open())
        return m_fileType == DatasetFileType::JsonArray
                   ? static_cast<int64_t>(std::filesystem::file_size(m_path))
                   : 0;
    const std::streamoff position = m_stream.tellg();
    // tellg fails once the end of the file was reached: all of it was read.
    return position >= 0 ? static_cast<int64_t>(position)
                         : static_cast<int64_t>(std::filesystem::file_size(m_path));
}

void DatasetReader::readTableHeader()
{
    m_table = std::make_unique<text::DelimitedRecordReader>(
        m_stream, m_fileType == DatasetFileType::Tsv ? '\t' : ',', m_path);
    if (!m_table->next(m_columns, kMaxTableColumns)) {
        m_line = m_table->linesRead();
        return; // no header, no records: readDataset reports the file as empty
    }
    m_line = m_table->linesRead();
    const std::string where = m_path + ":" + std::to_string(m_table->recordLine());
    const std::string kind = m_fileType == DatasetFileType::Tsv ? "TSV" : "CSV";
    nlohmann::json header = nlohmann::json::object();
    for (auto &column : m_columns) {
        column = trimSpaces(column);
        if (header.contains(column))
            throw Error(where + ": the header names the column \"" + column + "\" twice; rename one of them");
        header[column] = "";
    }
    if (m_format == RecordFormat::Messages || m_format == RecordFormat::ShareGpt)
        throw Error(where + ": a " + kind + " file holds one text per column, so the " +
                    recordFormatName(m_format) + " format does not apply; use a header with the columns " +
                    kTableColumns + ", or a .jsonl file for conversations");
    const RecordFormat format = m_format == RecordFormat::Auto ? flatRecordFormat(header) : m_format;
    const auto flat = std::find_if(kFlatFormats.begin(), kFlatFormats.end(),
                                   [&](const FlatFormat &candidate) { return candidate.format == format; });
    if (flat == kFlatFormats.end() || !hasFields(header, flat->fields))
        throw Error(where + ": the " + kind + " header (" + joined(m_columns) + ") has no columns for " +
                    (m_format == RecordFormat::Auto ? std::string("any dataset format")
                                                    : "the " + recordFormatName(m_format) + " format") +
                    "; a " + kind + " dataset starts with a header row naming the columns " + kTableColumns);
    m_format = format;
}

bool DatasetReader::nextTableRecord(nlohmann::json &value, int64_t &line)
{
    std::vector<std::string> fields;
    const bool read = m_table->next(fields, m_columns.size());
    m_line = m_table->linesRead();
    if (!read)
        return false;
    line = m_table->recordLine();
    if (fields.size() != m_columns.size())
        throw Error(m_path + ":" + std::to_string(line) + ": " + std::to_string(fields.size()) +
                    (fields.size() == 1 ? " field" : " fields") + " where the header has " +
                    std::to_string(m_columns.size()) + " (" + joined(m_columns) +
                    "): give every line one field per column");
    value = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i)
        value[m_columns[i]] = std::move(fields[i]);
    return true;
}

bool DatasetReader::nextJson(nlohmann::json &value, int64_t &line)
{
    if (m_fileType == DatasetFileType::JsonArray) {
        if (m_arrayIndex >= m_array.size())
            return false;
        line = m_arrayIndex < m_arrayLines.size() ? m_arrayLines[m_arrayIndex] : 0;
        value = std::move(m_array[m_arrayIndex]);
        ++m_arrayIndex;
        return true;
    }
    if (m_table)
        return nextTableRecord(value, line);
    std::string text;
    while (std::getline(m_stream, text)) {
        ++m_line;
        int64_t lineOffset = m_byteOffset;
        m_byteOffset += static_cast<int64_t>(text.size()) + 1;
        if (m_line == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)
            text.erase(0, 3);
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        size_t bad = unicode::findInvalidUtf8(text);
        if (bad != std::string::npos)
            throw Error(m_path + ": line " + std::to_string(m_line) + " (byte offset " +
                        std::to_string(lineOffset + static_cast<int64_t>(bad)) +
                        ") is not valid UTF-8: save the file as UTF-8");
        if (text.find_first_not_of(" \t") == std::string::npos)
            continue; // blank lines separate nothing in JSON Lines
        line = m_line;
        if (m_fileType == DatasetFileType::Text) {
            value = text;
            return true;
        }
        try {
            value = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error &error) {
            size_t column =
                error.byte > 0 ? error.byte : 1; // where the parser stopped: the end of the bad token
            throw Error(m_path + ":" + std::to_string(m_line) + ":" + std::to_string(column) +
                        ": invalid JSON: " + parseErrorReason(error.what()) +
                        " (JSON Lines: one complete JSON object per line)");
        } catch (const nlohmann::json::exception &error) { // a number too large for a double
            throw Error(m_path + ":" + std::to_string(m_line) +
                        ": invalid JSON: " + parseErrorReason(error.what()));
        }
        return true;
    }
    return false;
}

bool DatasetReader::next(DatasetRecord &record)
{
    if (m_options.sampleLimit > 0 && m_recordsRead >= m_options.sampleLimit)
        return false;
    nlohmann::json value;
    int64_t line = 0;
    if (!nextJson(value, line))
        return false;
    ++m_recordsRead;
    record = convert(value, m_recordsRead, line);
    return true;
}

DatasetRecord DatasetReader::convert(const nlohmann::json &value, int64_t number, int64_t line)
{
    std::string where = m_path + ": record " + std::to_string(number) +
                        (line > 0 ? " (line " + std::to_string(line) + ")" : "");
    DatasetRecord record;
    record.number = number;
    record.line = line;
    if (m_fileType == DatasetFileType::Text) {
        record.format = RecordFormat::Text;
        record.text = value.get<std::string>();
        return record;
    }
    if (!value.is_object())
        throw Error(where + " is " + jsonTypeName(value) + ", expected an object with the record's fields");

    if (m_format == RecordFormat::Auto) {
        if (value.contains("messages") || value.contains("conversations")) {
            const nlohmann::json &list =
                value.contains("messages") ? value["messages"] : value["conversations"];
            bool shareGpt =
                list.is_array() && !list.empty() && list[0].is_object() && list[0].contains("from");
            m_format = shareGpt
                           ? RecordFormat::ShareGpt
                           : (value.contains("messages") ? RecordFormat::Messages : RecordFormat::ShareGpt);
            if (!shareGpt && value.contains("conversations") && !value.contains("messages") &&
                list.is_array() && !list.empty() && list[0].is_object() && list[0].contains("role"))
                m_format = RecordFormat::Messages;
        } else if ((m_format = flatRecordFormat(value)) == RecordFormat::Auto) {
            std::string fields;
            for (auto it = value.begin(); it != value.end(); ++it)
                fields += (fields.empty() ? "" : ", ") + it.key();
            throw Error(where +
                        " has none of the fields a dataset format is recognised by (messages, conversations, "
                        "instruction + output, prompt + completion, text); it has: " +
                        (fields.empty() ? std::string("no fields") : fields) +
                        ". Choose the format with --format");
        }
    }
    record.format = m_format;
    const std::string formatName = recordFormatName(m_format);

    auto stringField = [&](const nlohmann::json &object, const std::string &field, const std::string &label,
                           bool required) -> std::string {
        auto it = object.find(field);
        if (it == object.end() || (it->is_null() && !required)) {
            if (required)
                throw Error(where + ": missing field \"" + label + "\" (" + formatName + " format)");
            return {};
        }
        if (it->is_string())
            return it->get<std::string>();
        // OpenAI content parts: [{"type": "text", "text": "..."}, {"type": "image_url", ...}]; an image
        // part stands in the text as a placeholder line, as InternVL's chat template renders it.
        if (it->is_array() && field == "content") {
            std::string joined;
            for (size_t i = 0; i < it->size(); ++i) {
                const nlohmann::json &part = (*it)[i];
                const std::string partLabel = label + "[" + std::to_string(i) + "]";
                const std::string type = part.is_object() ? part.value("type", std::string()) : std::string();
                if (type == "text" && part.contains("text") && part["text"].is_string()) {
                    joined += part["text"].get<std::string>();
                } else if (type == "image_url" || type == "image") {
                    record.images.push_back(imagePartSource(part, where, partLabel));
                    joined += std::string(kImagePlaceholder) + "\n";
                } else {
                    throw Error(where + ": field \"" + partLabel +
                                "\" is not a text or image part ({\"type\": \"text\"}, {\"type\": "
                                "\"image_url\"} or {\"type\": \"image\"})");
                }
            }
            return joined;
        }
        throw Error(where + ": field \"" + label + "\" must be a string, not " + jsonTypeName(*it) + " (" +
                    formatName + " format)");
    };

    switch (m_format) {
    case RecordFormat::Alpaca: {
        std::string system = stringField(value, "system", "system", false);
        if (!system.empty())
            record.messages.push_back({"system", system});
        record.messages.push_back({"user", stringField(value, "instruction", "instruction", true)});
        record.alpacaInput = stringField(value, "input", "input", false);
        record.messages.push_back({"assistant", stringField(value, "output", "output", true)});
        break;
    }
    case RecordFormat::PromptCompletion:
        record.messages.push_back({"user", stringField(value, "prompt", "prompt", true)});
        record.messages.push_back({"assistant", stringField(value, "completion", "completion", true)});
        break;
    case RecordFormat::Text:
        record.text = stringField(value, "text", "text", true);
        break;
    case RecordFormat::Messages:
    case RecordFormat::ShareGpt: {
        bool shareGpt = m_format == RecordFormat::ShareGpt;
        std::string listField = value.contains("messages") ? "messages" : "conversations";
        if (!value.contains(listField))
            throw Error(where + ": missing field \"" + std::string(shareGpt ? "conversations" : "messages") +
                        "\" (" + formatName + " format)");
        const nlohmann::json &list = value[listField];
        if (!list.is_array())
            throw Error(where + ": field \"" + listField + "\" must be an array of messages, not " +
                        jsonTypeName(list));
        for (size_t i = 0; i < list.size(); ++i) {
            std::string label = listField + "[" + std::to_string(i) + "]";
            if (!list[i].is_object())
                throw Error(where + ": field \"" + label + "\" must be an object, not " +
                            jsonTypeName(list[i]));
            std::string roleField = shareGpt ? "from" : "role";
            std::string contentField = shareGpt ? "value" : "content";
            std::string role = stringField(list[i], roleField, label + "." + roleField, true);
            std::string content = stringField(list[i], contentField, label + "." + contentField, true);
            if (shareGpt) {
                if (role == "human" || role == "user")
                    role = "user";
                else if (role == "gpt" || role == "assistant" || role == "model")
                    role = "assistant";
                else if (role != "system")
                    throw Error(where + ": field \"" + label + ".from\" is \"" + role +
                                "\"; ShareGPT roles are human, gpt and system");
            } else if (role != "system" && role != "user" && role != "assistant") {
                throw Error(where + ": field \"" + label + ".role\" is \"" + role +
                            "\"; roles are system, user and assistant");
            }
            record.messages.push_back({role, content});
        }
        break;
    }
    case RecordFormat::Auto:
        break;
    }
    readRecordImages(value, where, record);
    return record;
}

void DatasetReader::readRecordImages(const nlohmann::json &value, const std::string &where,
                                     DatasetRecord &record) const
{
    for (const char *field : {"image", "images"}) {
        const auto found = value.find(field);
        if (found == value.end() || found->is_null())
            continue;
        if (!record.images.empty())
            throw Error(where + ": has images both in its messages' content and in \"" + field +
                        "\"; give them in one place");
        const nlohmann::json list = found->is_array() ? *found : nlohmann::json::array({*found});
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string label =
                std::string(field) + (found->is_array() ? "[" + std::to_string(i) + "]" : "");
            if (!list[i].is_string())
                throw Error(where + ": field \"" + label + "\" must be an image path, not " +
                            jsonTypeName(list[i]));
            record.images.push_back(list[i].get<std::string>());
        }
    }
    if (record.images.empty())
        return;
    for (std::string &image : record.images)
        image = resolveImage(image, where);
    const size_t placeholders = countImagePlaceholders(record);
    if (placeholders == 0) {
        const auto user = std::find_if(record.messages.begin(), record.messages.end(),
                                       [](const ChatMessage &message) { return message.role == "user"; });
        if (user == record.messages.end())
            throw Error(where + ": has images but no user turn to show them in (" +
                        recordFormatName(m_format) + " format)");
        user->content = withImagePlaceholders(user->content, record.images.size());
    } else if (placeholders != record.images.size()) {
        throw Error(where + ": has " + std::to_string(placeholders) + " " + kImagePlaceholder +
                    " placeholder(s) but " + std::to_string(record.images.size()) +
                    " image(s); write one placeholder where each image belongs, or none to put them all "
                    "before the first question");
    }
}

std::string DatasetReader::resolveImage(std::string image, const std::string &where) const
{
    if (image.empty())
        throw Error(where + ": an image path is empty");
    if (image.rfind("http://", 0) == 0 || image.rfind("https://", 0) == 0)
        throw Error(where + ": the image \"" + image +
                    "\" is a web address; download the images and give their paths (relative to the "
                    "dataset file's folder)");
    if (image.rfind("data:", 0) == 0)
        return image;
    if (image.rfind("file://", 0) == 0)
        image = image.substr(7);
    std::string path = image;
    if (image.front() != '/') {
        const size_t slash = m_path.rfind('/');
        path = (slash == std::string::npos ? std::string() : m_path.substr(0, slash + 1)) + image;
    }
    struct stat fileStat
    {};
    if (::stat(path.c_str(), &fileStat) != 0 || !S_ISREG(fileStat.st_mode))
        throw Error(where + ": the image \"" + image + "\" was not found (looked for " + path +
                    "); image paths are relative to the dataset file's folder");
    return path;
}

std::vector<DatasetRecord> readDataset(const std::string &path, const DatasetReadOptions &options)
{
    DatasetReader reader(path, options);
    std::vector<DatasetRecord> records;
    DatasetRecord record;
    while (reader.next(record))
        records.push_back(std::move(record));
    if (records.empty())
        throw Error(path +
                    ": the dataset is empty (no records): add records, one JSON object per line for .jsonl");
    return records;
}

} // namespace emloc::core
