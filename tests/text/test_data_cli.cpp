// `emloc data inspect` end to end with the demo model (SmolLM2 GGUF: its tokenizer and chat template).
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using emloc::test::runCli;

namespace {
QString dataset(const char *name)
{
    return emloc::test::testDataDir() + "/datasets/" + name;
}
} // namespace

class TestDataCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void inspectPrintsStatisticsAsJson()
    {
        auto result = runCli(
            {"data", "inspect", dataset("messages.jsonl"), "--model", emloc::test::demoGgufPath(), "--json"});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto stats = nlohmann::json::parse(result.out.toStdString());
        QCOMPARE(stats["records"].get<int>(), 3);
        QCOMPARE(stats["used"].get<int>(), 3);
        QCOMPARE(stats["format"].get<std::string>(), std::string("messages"));
        QCOMPARE(stats["template"].get<std::string>(), std::string("jinja (model)"));
        QVERIFY(stats["masked_fraction"].get<double>() > 0.3 && stats["masked_fraction"].get<double>() < 1.0);
        const auto &segments = stats["example"]["segments"];
        QCOMPARE(segments.size(), size_t(2));
        QCOMPARE(segments[0]["trained"].get<bool>(), false);
        QCOMPARE(segments[0]["text"].get<std::string>(),
                 std::string(
                     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is "
                     "2+2?<|im_end|>\n<|im_start|>assistant\n"));
        QCOMPARE(segments[1]["text"].get<std::string>(), std::string("2+2 equals 4.<|im_end|>\n"));
        int64_t binned = 0;
        for (const auto &count : stats["histogram"]["counts"])
            binned += count.get<int64_t>();
        QCOMPARE(binned, int64_t(3));
    }

    void inspectPrintsAReport()
    {
        auto result = runCli({"data", "inspect", dataset("no_assistant.jsonl"), "--model",
                              emloc::test::demoGgufPath(), "--max-length", "21", "--system", "Be brief."});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const QString out = QString::fromUtf8(result.out);
        // Record 1 has 23 tokens, 19 of them prompt: truncated at 21, it keeps two trained tokens.
        QVERIFY2(out.contains("Records    2 read, 1 used, 1 skipped"), qPrintable(out));
        QVERIFY2(out.contains("skipped, no assistant turn: 1"), qPrintable(out));
        QVERIFY2(out.contains("record 2 (line 2): the conversation has no assistant turn"), qPrintable(out));
        QVERIFY2(out.contains("Truncated  1 records longer than 21 tokens"), qPrintable(out));
        QVERIFY2(out.contains("Token lengths"), qPrintable(out));
        QVERIFY2(out.contains("|#"), qPrintable(out));
        // Not a terminal: trained text is bracketed. The system option took the place of SmolLM2's default.
        QVERIFY2(out.contains("<|im_start|>system\nBe brief.<|im_end|>"), qPrintable(out));
        QVERIFY2(out.contains("[train]"), qPrintable(out));
    }

    void badInputFailsWithItsReason()
    {
        QTemporaryDir dir;
        QString broken = dir.filePath("broken.jsonl");
        std::ofstream(broken.toStdString()) << "{\"text\": \"ok\"}\n{\"text\": oops}\n";
        auto result = runCli({"data", "inspect", broken, "--model", emloc::test::demoGgufPath()});
        QCOMPARE(result.exitCode, 1);
        QVERIFY2(result.err.contains(":2:10: invalid JSON"), result.err.constData());

        auto wrongFormat = runCli({"data", "inspect", dataset("messages.jsonl"), "--model",
                                   emloc::test::demoGgufPath(), "--format", "text"});
        QCOMPARE(wrongFormat.exitCode, 1);
        QVERIFY2(wrongFormat.err.contains("record 1 (line 1): missing field \"text\" (text format)"),
                 wrongFormat.err.constData());

        auto usage = runCli({"data", "inspect", dataset("messages.jsonl"), "--model",
                             emloc::test::demoGgufPath(), "--template", "vicuna"});
        QCOMPARE(usage.exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestDataCli)
#include "test_data_cli.moc"
