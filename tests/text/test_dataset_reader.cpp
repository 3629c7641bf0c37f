// Dataset files: formats, detection, streaming, and the messages bad input gets.
#include "sanitizers.h"
#include "test_support.h"

#include "emloc/text/dataset_reader.h"
#include "emloc/util/memory.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace emloc::core;

namespace {

std::string writeFile(QTemporaryDir &dir, const QString &name, const std::string &content)
{
    std::string path = dir.filePath(name).toStdString();
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string datasetPath(const char *name)
{
    return (emloc::test::testDataDir() + "/datasets/" + name).toStdString();
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

#define QVERIFY_CONTAINS(text, part)                                                                         \
    QVERIFY2(std::string(text).find(part) != std::string::npos, contentsCheckMessage(text, part).c_str())

} // namespace

class TestDatasetReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsEveryFormat()
    {
        auto alpaca = readDataset(datasetPath("alpaca.json"));
        QCOMPARE(alpaca.size(), size_t(3));
        QCOMPARE(alpaca[0].format, RecordFormat::Alpaca);
        QCOMPARE(alpaca[0].messages.size(), size_t(2));
        QCOMPARE(alpaca[0].messages[0].role, std::string("user"));
        QCOMPARE(alpaca[0].messages[1].content, std::string("Paris"));
        QCOMPARE(alpaca[1].alpacaInput, std::string("The cat sat on the mat."));
        QCOMPARE(alpaca[2].messages[0].role, std::string("system"));
        QCOMPARE(alpaca[2].line, int64_t(12)); // array elements know their line

        auto messages = readDataset(datasetPath("messages.jsonl"));
        QCOMPARE(messages.size(), size_t(3));
        QCOMPARE(messages[0].format, RecordFormat::Messages);
        QCOMPARE(messages[0].messages.size(), size_t(3));
        QCOMPARE(messages[1].messages.size(), size_t(4));
        QCOMPARE(messages[2].messages[1].content, std::string("Bonjour")); // content parts joined

        auto sharegpt = readDataset(datasetPath("sharegpt.jsonl"));
        QCOMPARE(sharegpt[0].format, RecordFormat::ShareGpt);
        QCOMPARE(sharegpt[0].messages[0].role, std::string("system"));
        QCOMPARE(sharegpt[0].messages[1].role, std::string("user"));
        QCOMPARE(sharegpt[0].messages[2].role, std::string("assistant"));

        auto completion = readDataset(datasetPath("prompt_completion.jsonl"));
        QCOMPARE(completion[0].format, RecordFormat::PromptCompletion);
        QCOMPARE(completion[0].messages[1].content, std::string(" blue"));

        auto text = readDataset(datasetPath("documents.txt"));
        QCOMPARE(text.size(), size_t(3)); // the blank line is not a document
        QCOMPARE(text[2].text, std::string("Third document, after a blank line."));
        QCOMPARE(text[2].line, int64_t(4));

        auto textJsonl = readDataset(datasetPath("text.jsonl"));
        QCOMPARE(textJsonl[0].format, RecordFormat::Text);
    }

    void readsCsvAndTsvRecordsByTheirHeader()
    {
        // RFC 4180: a quoted field holds the delimiter, doubled quotes and a line break.
        auto alpaca = readDataset(datasetPath("alpaca.csv"));
        QCOMPARE(alpaca.size(), size_t(3)); // the header is not a record, nor is the blank line
        QCOMPARE(alpaca[0].format, RecordFormat::Alpaca);
        QCOMPARE(alpaca[0].messages[0].content, std::string("What is the capital of France?"));
        QCOMPARE(alpaca[0].messages[1].content, std::string("Paris"));
        QCOMPARE(alpaca[0].alpacaInput, std::string());
        QCOMPARE(alpaca[1].alpacaInput, std::string("The cat sat on the mat, \"quietly\"."));
        QCOMPARE(alpaca[2].messages[1].content, std::string("Line one\nLine two"));
        QCOMPARE(alpaca[2].line, int64_t(5));
        QCOMPARE(alpaca[2].number, int64_t(3));

        auto completion = readDataset(datasetPath("prompt_completion.tsv"));
        QCOMPARE(completion.size(), size_t(2));
        QCOMPARE(completion[0].format, RecordFormat::PromptCompletion);
        QCOMPARE(completion[0].messages[1].content, std::string(" blue"));
        QCOMPARE(completion[1].messages[0].content, std::string("Say \"hi\", then\ttab"));

        QTemporaryDir dir;
        // A BOM, CRLF line ends, spaces around the header's names, unused columns, a single text column.
        std::string text =
            writeFile(dir, "notes.CSV", "\xEF\xBB\xBFid, text \r\n1,first\r\n2,\"se,cond\"\r\n");
        DatasetReader reader(text);
        QCOMPARE(reader.fileType(), DatasetFileType::Csv);
        QCOMPARE(reader.format(), RecordFormat::Text); // known from the header, before any record
        auto records = readDataset(text);
        QCOMPARE(records.size(), size_t(2));
        QCOMPARE(records[0].text, std::string("first"));
        QCOMPARE(records[1].text, std::string("se,cond"));
        // An explicit format picks among the columns; the header still has to hold its fields.
        std::string both = writeFile(dir, "both.csv", "prompt,completion,text\np,c,t\n");
        QCOMPARE(readDataset(both)[0].format, RecordFormat::PromptCompletion);
        QCOMPARE(readDataset(both, {RecordFormat::Text, 0})[0].text, std::string("t"));
    }

    void csvWithoutKnownColumnsIsRefused()
    {
        QTemporaryDir dir;
        // Never read as plain text: the header would become a training document.
        std::string unknown = writeFile(dir, "qa.csv", "question,answer\nq,a\n");
        std::string message = errorOf([&] { readDataset(unknown); });
        QVERIFY_CONTAINS(message, unknown + ":1: the CSV header (question, answer) has no columns for any "
                                            "dataset format");
        QVERIFY_CONTAINS(message,
                         "instruction and output (optional: input, system), prompt and completion, or text");
        std::string noHeader = writeFile(dir, "plain.tsv", "just a sentence\nanother one\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(noHeader); }), noHeader + ":1: the TSV header");
        QVERIFY_CONTAINS(errorOf([&] {
                             readDataset(unknown, {RecordFormat::Messages, 0});
                         }),
                         "the messages format does not apply");
        std::string alpaca = writeFile(dir, "alpaca.csv", "instruction,output\ni,o\n");
        QVERIFY_CONTAINS(errorOf([&] {
                             readDataset(alpaca, {RecordFormat::Text, 0});
                         }),
                         "has no columns for the text format");
        std::string twice = writeFile(dir, "twice.csv", "text,text\na,b\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(twice); }),
                         twice + ":1: the header names the column \"text\" twice");
    }

    void malformedCsvNamesFileAndLine()
    {
        QTemporaryDir dir;
        const std::string header = "instruction,output\n";
        auto check = [&](const QString &name, const std::string &body, const std::string &expected) {
            std::string path = writeFile(dir, name, header + body);
            std::string message = errorOf([&] { readDataset(path); });
            QVERIFY_CONTAINS(message, path + ":" + expected);
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

    void hostileCsvStaysBounded()
    {
        QTemporaryDir dir;
        // An unclosed quote does not read the rest of a large file into one field.
        std::string path = dir.filePath("unclosed.csv").toStdString();
        {
            std::ofstream out(path, std::ios::binary);
            out << "text\n\"";
            const std::string block(1 << 20, 'x');
            for (int i = 0; i < 70; ++i)
                out << block << '\n';
        }
        QVERIFY_CONTAINS(errorOf([&] { readDataset(path); }),
                         path + ":2: the record starting here is longer than 64 MiB");
        // A header wider than any dataset's is refused as it is read.
        std::string wide;
        for (int i = 0; i < 5000; ++i)
            wide += "c" + std::to_string(i) + ",";
        std::string widePath = writeFile(dir, "wide.csv", wide + "text\nx\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(widePath); }), widePath + ":1: more than 1024 fields");
    }

    void explicitFormatOverridesDetection()
    {
        QTemporaryDir dir;
        // Both "text" and "prompt"/"completion": detection picks prompt-completion, --format text wins.
        std::string path =
            writeFile(dir, "both.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\", \"text\": \"t\"}\n");
        QCOMPARE(readDataset(path)[0].format, RecordFormat::PromptCompletion);
        auto records = readDataset(path, {RecordFormat::Text, 0});
        QCOMPARE(records[0].format, RecordFormat::Text);
        QCOMPARE(records[0].text, std::string("t"));
        QCOMPARE(parseRecordFormat("sharegpt"), RecordFormat::ShareGpt);
        QVERIFY_CONTAINS(errorOf([] { parseRecordFormat("csv"); }), "alpaca, messages, sharegpt");
    }

    void invalidJsonNamesFileLineAndColumn()
    {
        QTemporaryDir dir;
        std::string path = writeFile(
            dir, "bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"fine\"}\n{\"text\": \"broken\" \"x\": 1}\n");
        std::string message = errorOf([&] { readDataset(path); });
        // The column is where the parser stopped: the end of the unexpected "x".
        QVERIFY_CONTAINS(
            message,
            path + ":3:21: invalid JSON: syntax error while parsing object - unexpected string literal");
        std::string arrayPath =
            writeFile(dir, "bad.json", "[\n  {\"text\": \"a\"},\n  {\"text\": \"b\",}\n]\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(arrayPath); }),
                         arrayPath +
                             ":3:16: invalid JSON: syntax error while parsing object key - unexpected '}'");
    }

    void missingOrMistypedFieldNamesRecordAndField()
    {
        QTemporaryDir dir;
        std::string missing = writeFile(dir, "missing.jsonl",
                                        "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                        "{\"instruction\": \"c\", \"input\": \"d\"}\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(missing); }),
                         "record 2 (line 2): missing field \"output\" (alpaca format)");
        std::string mistyped = writeFile(dir, "mistyped.jsonl",
                                         "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
                                         "{\"role\": \"assistant\", \"content\": 42}]}\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(mistyped); }),
                         "record 1 (line 1): field \"messages[1].content\" must be a string, not number");
        std::string role = writeFile(dir, "role.jsonl",
                                     "{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}, "
                                     "{\"from\": \"robot\", \"value\": \"x\"}]}\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(role); }), "field \"conversations[1].from\" is \"robot\"");
        std::string unknown = writeFile(dir, "unknown.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(unknown); }), "it has: answer, question");
        std::string notObject = writeFile(dir, "array.jsonl", "[1, 2]\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(notObject); }), "record 1 (line 1) is array");
    }

    void emptyDatasetIsAnError()
    {
        QTemporaryDir dir;
        for (const auto &[name, content] :
             std::vector<std::pair<QString, std::string>>{{"empty.jsonl", ""},
                                                          {"blank.jsonl", "\n  \n"},
                                                          {"empty.json", "[]"},
                                                          {"empty.txt", "\n"},
                                                          {"empty.csv", ""},
                                                          {"header-only.csv", "text\n\n"},
                                                          {"header-only.tsv", "prompt\tcompletion\r\n"}}) {
            std::string path = writeFile(dir, name, content);
            QVERIFY_CONTAINS(errorOf([&] { readDataset(path); }), path + ": the dataset is empty");
        }
        QVERIFY_CONTAINS(errorOf([&] { readDataset(dir.filePath("absent.jsonl").toStdString()); }),
                         "cannot open the dataset file");
    }

    void invalidUtf8NamesLineAndByteOffset()
    {
        QTemporaryDir dir;
        // Line 2 starts at byte 14; the Latin-1 "\xe9" is its 14th byte (offset 13 in the line).
        std::string path = writeFile(dir, "latin1.jsonl", "{\"text\": \"a\"}\n{\"text\": \"caf\xe9\"}\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(path); }), "line 2 (byte offset 27) is not valid UTF-8");
        std::string text = writeFile(dir, "latin1.txt", "ok\nalso ok\n\xff\xfe bad\n");
        QVERIFY_CONTAINS(errorOf([&] { readDataset(text); }), "line 3 (byte offset 11) is not valid UTF-8");
    }

    void largeFileIsStreamedWithSampleLimit()
    {
        QTemporaryDir dir;
        std::string path = dir.filePath("big.jsonl").toStdString();
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
        QCOMPARE(count, int64_t(100));
        QCOMPARE(reader.linesRead(), int64_t(100)); // nothing past the limit was read
        QCOMPARE(record.text.substr(0, 3), std::string("99 "));
        // Reading everything without a limit keeps memory flat: records are not kept.
        DatasetReader all(path);
        while (all.next(record))
            ++count;
        QCOMPARE(all.recordsRead(), int64_t(60000));
        int64_t grown = processRss().peakBytes - before;
        qInfo("peak RSS growth while streaming 55 MB: %lld KiB", static_cast<long long>(grown / 1024));
        if (!emloc::test::kMemoryReadingsAreTheProducts) {
            qInfo("the bound is not asserted under AddressSanitizer: its quarantine keeps every freed line");
            return;
        }
        QVERIFY2(grown < 32ll * 1024 * 1024, "streaming a JSONL file must not load it whole");
    }
};

QTEST_GUILESS_MAIN(TestDatasetReader)
#include "test_dataset_reader.moc"
