// Dataset files: formats, detection, streaming, and the messages bad input gets.
#include "sanitizers.h"

#include "emloc/text/dataset_reader.h"
#include "emloc/util/memory.h"

#include "unit_test.h"

#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace emloc::core;

namespace {

std::string writeFile(emloc::test::TempDir &dir, const std::string &name, const std::string &content)
{
    std::string path = dir.filePath(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string datasetPath(const char *name)
{
    return emloc::test::testDataDir() + "/datasets/" + name;
}

// The Error message of `body`, or "" when it does not throw.
template <typename F> std::string errorOf(F body)
{
    try {
        body();
    } catch (const Error &e) {
        return e.what();
    }
    return {};
}

std::string contentsCheckMessage(const std::string &text, const std::string &part)
{
    return "'" + text + "' does not contain '" + part + "'";
}

#define VERIFY_CONTAINS(text, part)                                                                          \
    VERIFY2(std::string(text).find(part) != std::string::npos, contentsCheckMessage(text, part).c_str())

} // namespace

TEST_CASE(readsEveryFormat)
{
    auto alpaca = readDataset(datasetPath("alpaca.json"));
    COMPARE(alpaca.size(), size_t(3));
    COMPARE(alpaca[0].format, RecordFormat::Alpaca);
    COMPARE(alpaca[0].messages.size(), size_t(2));
    COMPARE(alpaca[0].messages[0].role, std::string("user"));
    COMPARE(alpaca[0].messages[1].content, std::string("Paris"));
    COMPARE(alpaca[1].alpacaInput, std::string("The cat sat on the mat."));
    COMPARE(alpaca[2].messages[0].role, std::string("system"));
    COMPARE(alpaca[2].line, int64_t(12)); // array elements know their line

    auto messages = readDataset(datasetPath("messages.jsonl"));
    COMPARE(messages.size(), size_t(3));
    COMPARE(messages[0].format, RecordFormat::Messages);
    COMPARE(messages[0].messages.size(), size_t(3));
    COMPARE(messages[1].messages.size(), size_t(4));
    COMPARE(messages[2].messages[1].content, std::string("Bonjour")); // content parts joined

    auto sharegpt = readDataset(datasetPath("sharegpt.jsonl"));
    COMPARE(sharegpt[0].format, RecordFormat::ShareGpt);
    COMPARE(sharegpt[0].messages[0].role, std::string("system"));
    COMPARE(sharegpt[0].messages[1].role, std::string("user"));
    COMPARE(sharegpt[0].messages[2].role, std::string("assistant"));

    auto completion = readDataset(datasetPath("prompt_completion.jsonl"));
    COMPARE(completion[0].format, RecordFormat::PromptCompletion);
    COMPARE(completion[0].messages[1].content, std::string(" blue"));

    auto text = readDataset(datasetPath("documents.txt"));
    COMPARE(text.size(), size_t(3)); // the blank line is not a document
    COMPARE(text[2].text, std::string("Third document, after a blank line."));
    COMPARE(text[2].line, int64_t(4));

    auto textJsonl = readDataset(datasetPath("text.jsonl"));
    COMPARE(textJsonl[0].format, RecordFormat::Text);
}

TEST_CASE(readsCsvAndTsvRecordsByTheirHeader)
{
    // RFC 4180: a quoted field holds the delimiter, doubled quotes and a line break.
    auto alpaca = readDataset(datasetPath("alpaca.csv"));
    COMPARE(alpaca.size(), size_t(3)); // the header is not a record, nor is the blank line
    COMPARE(alpaca[0].format, RecordFormat::Alpaca);
    COMPARE(alpaca[0].messages[0].content, std::string("What is the capital of France?"));
    COMPARE(alpaca[0].messages[1].content, std::string("Paris"));
    COMPARE(alpaca[0].alpacaInput, std::string());
    COMPARE(alpaca[1].alpacaInput, std::string("The cat sat on the mat, \"quietly\"."));
    COMPARE(alpaca[2].messages[1].content, std::string("Line one\nLine two"));
    COMPARE(alpaca[2].line, int64_t(5));
    COMPARE(alpaca[2].number, int64_t(3));

    auto completion = readDataset(datasetPath("prompt_completion.tsv"));
    COMPARE(completion.size(), size_t(2));
    COMPARE(completion[0].format, RecordFormat::PromptCompletion);
    COMPARE(completion[0].messages[1].content, std::string(" blue"));
    COMPARE(completion[1].messages[0].content, std::string("Say \"hi\", then\ttab"));

    emloc::test::TempDir dir;
    // A BOM, CRLF line ends, spaces around the header's names, unused columns, a single text column.
    std::string text = writeFile(dir, "notes.CSV", "\xEF\xBB\xBFid, text \r\n1,first\r\n2,\"se,cond\"\r\n");
    DatasetReader reader(text);
    COMPARE(reader.fileType(), DatasetFileType::Csv);
    COMPARE(reader.format(), RecordFormat::Text); // known from the header, before any record
    auto records = readDataset(text);
    COMPARE(records.size(), size_t(2));
    COMPARE(records[0].text, std::string("first"));
    COMPARE(records[1].text, std::string("se,cond"));
    // An explicit format picks among the columns; the header still has to hold its fields.
    std::string both = writeFile(dir, "both.csv", "prompt,completion,text\np,c,t\n");
    COMPARE(readDataset(both)[0].format, RecordFormat::PromptCompletion);
    COMPARE(readDataset(both, {RecordFormat::Text, 0})[0].text, std::string("t"));
}

TEST_CASE(csvWithoutKnownColumnsIsRefused)
{
    emloc::test::TempDir dir;
    // Never read as plain text: the header would become a training document.
    std::string unknown = writeFile(dir, "qa.csv", "question,answer\nq,a\n");
    std::string message = errorOf([&] { readDataset(unknown); });
    VERIFY_CONTAINS(message, unknown + ":1: the CSV header (question, answer) has no columns for any "
                                       "dataset format");
    VERIFY_CONTAINS(message,
                    "instruction and output (optional: input, system), prompt and completion, or text");
    std::string noHeader = writeFile(dir, "plain.tsv", "just a sentence\nanother one\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(noHeader); }), noHeader + ":1: the TSV header");
    VERIFY_CONTAINS(errorOf([&] {
                        readDataset(unknown, {RecordFormat::Messages, 0});
                    }),
                    "the messages format does not apply");
    std::string alpaca = writeFile(dir, "alpaca.csv", "instruction,output\ni,o\n");
    VERIFY_CONTAINS(errorOf([&] {
                        readDataset(alpaca, {RecordFormat::Text, 0});
                    }),
                    "has no columns for the text format");
    std::string twice = writeFile(dir, "twice.csv", "text,text\na,b\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(twice); }),
                    twice + ":1: the header names the column \"text\" twice");
}

TEST_CASE(malformedCsvNamesFileAndLine)
{
    emloc::test::TempDir dir;
    const std::string header = "instruction,output\n";
    auto check = [&](const std::string &name, const std::string &body, const std::string &expected) {
        std::string path = writeFile(dir, name, header + body);
        std::string message = errorOf([&] { readDataset(path); });
        VERIFY_CONTAINS(message, path + ":" + expected);
    };
    check("short.csv", "a,b\nc\n", "3: 1 field where the header has 2 (instruction, output)");
    check("long.csv", "a,b\nc,d,e\n",
          "3: more than 2 fields: put a field that holds a comma in double quotes");
    check("after-quote.csv", "\"a\"x,b\n", "2: text after the closing quote of field 1");
    check("inner-quote.csv", "a,b \"c\" d\n", "2: field 2 holds a quote but does not start with one");
    check("unclosed.csv", "a,b\n\"c,d\ne,f\n", "3: the quoted field 1 opened here is never closed");
    check("latin1.csv", "a,caf\xe9\n", "2: field 2 is not valid UTF-8");
    // A multi-line record: the line of the next record counts the line breaks inside quotes.
    check("after-multiline.csv", "\"a\nb\nc\",d\ne\n", "5: 1 field where the header has 2");
}

TEST_CASE(hostileCsvStaysBounded)
{
    emloc::test::TempDir dir;
    // An unclosed quote does not read the rest of a large file into one field.
    std::string path = dir.filePath("unclosed.csv");
    {
        std::ofstream out(path, std::ios::binary);
        out << "text\n\"";
        const std::string block(1 << 20, 'x');
        for (int i = 0; i < 70; ++i)
            out << block << '\n';
    }
    VERIFY_CONTAINS(errorOf([&] { readDataset(path); }),
                    path + ":2: the record starting here is longer than 64 MiB");
    // A header wider than any dataset's is refused as it is read.
    std::string wide;
    for (int i = 0; i < 5000; ++i)
        wide += "c" + std::to_string(i) + ",";
    std::string widePath = writeFile(dir, "wide.csv", wide + "text\nx\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(widePath); }), widePath + ":1: more than 1024 fields");
}

TEST_CASE(explicitFormatOverridesDetection)
{
    emloc::test::TempDir dir;
    // Both "text" and "prompt"/"completion": detection picks prompt-completion, --format text wins.
    std::string path =
        writeFile(dir, "both.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"text\": \"t\"}\n");
    COMPARE(readDataset(path)[0].format, RecordFormat::PromptCompletion);
    auto records = readDataset(path, {RecordFormat::Text, 0});
    COMPARE(records[0].format, RecordFormat::Text);
    COMPARE(records[0].text, std::string("t"));
    COMPARE(parseRecordFormat("sharegpt"), RecordFormat::ShareGpt);
    VERIFY_CONTAINS(errorOf([] { parseRecordFormat("csv"); }), "alpaca, messages, sharegpt");
}

TEST_CASE(invalidJsonNamesFileLineAndColumn)
{
    emloc::test::TempDir dir;
    std::string path = writeFile(
        dir, "bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"fine\"}\n{\"text\": \"broken\" \"x\": 1}\n");
    std::string message = errorOf([&] { readDataset(path); });
    // The column is where the parser stopped: the end of the unexpected "x".
    VERIFY_CONTAINS(
        message, path + ":3:21: invalid JSON: syntax error while parsing object - unexpected string literal");
    std::string arrayPath = writeFile(dir, "bad.json", "[\n  {\"text\": \"a\"},\n  {\"text\": \"b\",}\n]\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(arrayPath); }),
                    arrayPath +
                        ":3:16: invalid JSON: syntax error while parsing object key - unexpected '}'");
}

TEST_CASE(missingOrMistypedFieldNamesRecordAndField)
{
    emloc::test::TempDir dir;
    std::string missing = writeFile(dir, "missing.jsonl",
                                    "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                    "{\"instruction\": \"c\", \"input\": \"d\"}\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(missing); }),
                    "record 2 (line 2): missing field \"output\" (alpaca format)");
    std::string mistyped = writeFile(dir, "mistyped.jsonl",
                                     "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
                                     "{\"role\": \"assistant\", \"content\": 42}]}\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(mistyped); }),
                    "record 1 (line 1): field \"messages[1].content\" must be a string, not number");
    std::string role = writeFile(dir, "role.jsonl",
                                 "{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}, "
                                 "{\"from\": \"robot\", \"value\": \"x\"}]}\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(role); }), "field \"conversations[1].from\" is \"robot\"");
    std::string unknown = writeFile(dir, "unknown.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(unknown); }), "it has: answer, question");
    std::string notObject = writeFile(dir, "array.jsonl", "[1, 2]\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(notObject); }), "record 1 (line 1) is array");
}

TEST_CASE(emptyDatasetIsAnError)
{
    emloc::test::TempDir dir;
    for (const auto &[name, content] :
         std::vector<std::pair<std::string, std::string>>{{"empty.jsonl", ""},
                                                          {"blank.jsonl", "\n  \n"},
                                                          {"empty.json", "[]"},
                                                          {"empty.txt", "\n"},
                                                          {"empty.csv", ""},
                                                          {"header-only.csv", "text\n\n"},
                                                          {"header-only.tsv", "prompt\tcompletion\r\n"}}) {
        std::string path = writeFile(dir, name, content);
        VERIFY_CONTAINS(errorOf([&] { readDataset(path); }), path + ": the dataset is empty");
    }
    VERIFY_CONTAINS(errorOf([&] { readDataset(dir.filePath("absent.jsonl")); }),
                    "cannot open the dataset file");
}

TEST_CASE(invalidUtf8NamesLineAndByteOffset)
{
    emloc::test::TempDir dir;
    // Line 2 starts at byte 14; the Latin-1 "\xe9" is its 14th byte (offset 13 in the line).
    std::string path = writeFile(dir, "latin1.jsonl", "{\"text\": \"a\"}\n{\"text\": \"caf\xe9\"}\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(path); }), "line 2 (byte offset 27) is not valid UTF-8");
    std::string text = writeFile(dir, "latin1.txt", "ok\nalso ok\n\xff\xfe bad\n");
    VERIFY_CONTAINS(errorOf([&] { readDataset(text); }), "line 3 (byte offset 11) is not valid UTF-8");
}

TEST_CASE(largeFileIsStreamedWithSampleLimit)
{
    emloc::test::TempDir dir;
    std::string path = dir.filePath("big.jsonl");
    {
        std::ofstream out(path);
        std::string filler(900, 'x');
        for (int i = 0; i < 60000; ++i) // ~55 MB
            out << "{\"text\": \"" << i << ' ' << filler << "\"}\n";
    }
    resetPeakRss();
    int64_t before = processRss().currentBytes;
    DatasetReader reader(path, {RecordFormat::Auto, 100});
    DatasetRecord record;
    int64_t count = 0;
    while (reader.next(record))
        ++count;
    COMPARE(count, int64_t(100));
    COMPARE(reader.linesRead(), int64_t(100)); // nothing past the limit was read
    COMPARE(record.text.substr(0, 3), std::string("99 "));
    // Reading everything without a limit keeps memory flat: records are not kept.
    DatasetReader all(path);
    while (all.next(record))
        ++count;
    COMPARE(all.recordsRead(), int64_t(60000));
    int64_t grown = processRss().peakBytes - before;
    emloc::test::info(emloc::test::str("peak RSS growth while streaming 55 MB: ", grown / 1024, " KiB"));
    if (!emloc::test::kMemoryReadingsAreTheProducts) {
        emloc::test::info(
            "the bound is not asserted under AddressSanitizer: its quarantine keeps every freed line");
        return;
    }
    VERIFY2(grown < 32ll * 1024 * 1024, "streaming a JSONL file must not load it whole");
}
