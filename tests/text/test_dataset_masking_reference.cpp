// Token ids and assistant masks of a multi-turn dataset with SmolLM2's real tokenizer and chat template,
// against transformers (apply_chat_template + offset mapping, see
// tests/reference/dataset_masking_reference.py).
#include "test_support.h"

#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/dataset_tokenize.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace emloc::core;

class TestDatasetMaskingReference : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smolLm2MasksMatchTransformers()
    {
        QTemporaryDir dir;
        const QString data = emloc::test::testDataDir() + "/datasets/chat_multiturn.jsonl";
        auto python = emloc::test::runPythonScript("dataset_masking_reference.py",
                                                   {emloc::test::demoGgufPath(), data, dir.path()});
        QVERIFY2(python.exitCode == 0, python.err.constData());
        nlohmann::json expected =
            nlohmann::json::parse(std::ifstream(dir.filePath("expected.json").toStdString()));

        auto tokenizer = Tokenizer::fromFile(dir.filePath("tokenizer.json").toStdString());
        ChatTemplate chatTemplate =
            ChatTemplate::fromJinja(expected["chat_template"], expected["bos_token"], expected["eos_token"]);
        auto records = readDataset(data.toStdString());
        QCOMPARE(records.size(), expected["records"].size());
        TokenizeOptions options;
        options.maxLength = 0;
        int64_t tokens = 0, trained = 0;
        for (size_t i = 0; i < records.size(); ++i) {
            const auto &reference = expected["records"][i];
            auto messages = conversationFor(records[i], chatTemplate, "");
            QCOMPARE(chatTemplate.render(messages, false), reference["text"].get<std::string>());
            TokenizeResult result = tokenizeRecord(records[i], chatTemplate, *tokenizer, options);
            QVERIFY(result.ok);
            QCOMPARE(result.example.inputIds, reference["input_ids"].get<std::vector<int64_t>>());
            QCOMPARE(result.example.labels, reference["labels"].get<std::vector<int64_t>>());
            tokens += static_cast<int64_t>(result.example.inputIds.size());
            for (int64_t label : result.example.labels)
                trained += label != kIgnoreLabel ? 1 : 0;
        }
        qInfo("%zu conversations, %lld tokens, %lld trained: ids and labels equal transformers'",
              records.size(), static_cast<long long>(tokens), static_cast<long long>(trained));
    }
};

QTEST_GUILESS_MAIN(TestDatasetMaskingReference)
#include "test_dataset_masking_reference.moc"
