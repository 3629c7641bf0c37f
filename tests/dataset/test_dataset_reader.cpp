// Dataset files: formats, detection, streaming, and the messages bad input gets.
#include "sanitizers.h"
#include "test_support.h"

#include "emloc/dataset.h"
#include "emloc/memory.h"

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
        for (const auto &[name, content] : std::vector<std::pair<QString, std::string>>{
                 {"empty.jsonl", ""}, {"blank.jsonl", "\n  \n"}, {"empty.json", "[]"}, {"empty.txt", "\n"}}) {
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
