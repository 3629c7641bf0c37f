// Records to training examples with a small fake tokenizer: masking (single and multi-turn, across a
// merged boundary token), truncation, skips, shuffling, the split, batches, packing and statistics.
#include "fake_tokenizer.h"
#include "test_support.h"

#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_tokenize.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <numeric>
#include <set>

using namespace emloc::core;

namespace {

std::string datasetPath(const char *name)
{
    return (emloc::test::testDataDir() + "/datasets/" + name).toStdString();
}

DatasetRecord conversationRecord(std::vector<ChatMessage> messages, int64_t number = 1)
{
    DatasetRecord record;
    record.number = number;
    record.line = number;
    record.format = RecordFormat::Messages;
    record.messages = std::move(messages);
    return record;
}

// The text of the trained (or masked) tokens, concatenated.
std::string textWhere(const TokenizedExample &example, const Tokenizer &tokenizer, bool trained)
{
    std::vector<int64_t> ids;
    for (size_t i = 0; i < example.inputIds.size(); ++i)
        if ((example.labels[i] != kIgnoreLabel) == trained)
            ids.push_back(example.inputIds[i]);
    return tokenizer.decode(ids, false);
}

TokenizedExample exampleOfLength(int64_t length, int64_t firstId)
{
    TokenizedExample example;
    for (int64_t i = 0; i < length; ++i) {
        example.inputIds.push_back(firstId + i);
        example.labels.push_back(i == 0 ? kIgnoreLabel : firstId + i);
    }
    return example;
}

} // namespace

class TestTrainingExamples : public QObject
{
    Q_OBJECT

private:
    emloc::test::FakeTokenizer m_tokenizer;
    ChatTemplate m_chatml = ChatTemplate::builtin(TemplateKind::ChatML, "", "<|im_end|>");

private Q_SLOTS:
    void onlyTheAssistantTurnIsTrained()
    {
        auto result = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", "Hello there"}}),
                                     m_chatml, m_tokenizer, {});
        QVERIFY(result.ok);
        QCOMPARE(textWhere(result.example, m_tokenizer, true), std::string("Hello there<|im_end|>\n"));
        QCOMPARE(textWhere(result.example, m_tokenizer, false),
                 std::string("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        QCOMPARE(result.example.inputIds.size(), result.example.labels.size());
        for (size_t i = 0; i < result.example.labels.size(); ++i)
            QVERIFY(result.example.labels[i] == kIgnoreLabel ||
                    result.example.labels[i] == result.example.inputIds[i]);
    }

    void multiTurnMasksEveryNonAssistantTurn()
    {
        auto record = conversationRecord({{"system", "S"},
                                          {"user", "Name a fruit."},
                                          {"assistant", "Apple."},
                                          {"user", "Another?"},
                                          {"assistant", "Banana."}});
        auto result = tokenizeRecord(record, m_chatml, m_tokenizer, {});
        QVERIFY(result.ok);
        QVERIFY(!result.notPrefixStable);
        auto segments = renderedSegments(result.example, m_tokenizer);
        QCOMPARE(segments.size(), size_t(4));
        QCOMPARE(segments[0].trained, false);
        QCOMPARE(segments[1].text, std::string("Apple.<|im_end|>\n"));
        QCOMPARE(segments[1].trained, true);
        QCOMPARE(segments[2].text,
                 std::string("<|im_start|>user\nAnother?<|im_end|>\n<|im_start|>assistant\n"));
        QCOMPARE(segments[3].text, std::string("Banana.<|im_end|>\n"));
        QCOMPARE(segments[3].trained, true);
    }

    void tokenMergedAcrossTheBoundaryIsTrained()
    {
        // Alpaca's prompt ends with ":\n" and the answer starts with "Y": the fake tokenizer merges ":\nY"
        // into one token, which exists only in the full text. The mask follows the full text's tokens.
        ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "<s>", "</s>");
        auto result = tokenizeRecord(conversationRecord({{"user", "Q"}, {"assistant", "Yes"}}), alpaca,
                                     m_tokenizer, {});
        QVERIFY(result.ok);
        QCOMPARE(result.example.inputIds.front(), m_tokenizer.tokenToId("<s>")); // BOS for base-model formats
        QCOMPARE(result.example.labels.front(), kIgnoreLabel);
        QCOMPARE(textWhere(result.example, m_tokenizer, true), std::string(":\nYes</s>"));
        std::string masked = textWhere(result.example, m_tokenizer, false);
        QVERIFY(masked.size() > 10 && masked.substr(masked.size() - 10) == "# Response");
    }

    void alpacaInputAndSystemPrompt()
    {
        DatasetRecord record = conversationRecord({{"user", "Summarize."}, {"assistant", "Short."}});
        record.format = RecordFormat::Alpaca;
        record.alpacaInput = "Long text.";
        ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "", "");
        auto messages = conversationFor(record, alpaca, "Be kind.");
        QCOMPARE(messages.size(), size_t(3));
        QCOMPARE(messages[0].content, std::string("Be kind."));
        QCOMPARE(messages[1].content, std::string("Summarize.\n\n### Input:\nLong text."));
        QCOMPARE(conversationFor(record, m_chatml, "")[0].content, std::string("Summarize.\n\nLong text."));
        // A record's own system turn wins over the option.
        record.messages.insert(record.messages.begin(), {"system", "Own."});
        QCOMPARE(conversationFor(record, m_chatml, "Be kind.")[0].content, std::string("Own."));
    }

    void trainOnAllTokensAndTextRecords()
    {
        TokenizeOptions all;
        all.trainOnAllTokens = true;
        auto result = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", "Yo"}}), m_chatml,
                                     m_tokenizer, all);
        QVERIFY(result.ok);
        QCOMPARE(result.example.labels, result.example.inputIds);

        DatasetRecord text;
        text.number = 1;
        text.format = RecordFormat::Text;
        text.text = "Hello world";
        ChatTemplate withEos = ChatTemplate::builtin(TemplateKind::Plain, "<s>", "</s>");
        auto doc = tokenizeRecord(text, withEos, m_tokenizer, {});
        QVERIFY(doc.ok);
        QCOMPARE(doc.example.inputIds.front(), m_tokenizer.tokenToId("<s>"));
        QCOMPARE(doc.example.inputIds.back(), m_tokenizer.tokenToId("</s>"));
        QCOMPARE(doc.example.labels, doc.example.inputIds);
        QCOMPARE(m_tokenizer.decode(doc.example.inputIds, false), std::string("<s>Hello world</s>"));
    }

    void truncationAndSkips()
    {
        TokenizeOptions shortOptions;
        shortOptions.maxLength = 40;
        std::string longAnswer(100, 'a');
        auto truncated = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", longAnswer}}),
                                        m_chatml, m_tokenizer, shortOptions);
        QVERIFY(truncated.ok);
        QVERIFY(truncated.example.truncated);
        QCOMPARE(truncated.example.inputIds.size(), size_t(40));
        QCOMPARE(truncated.example.labels.size(), size_t(40));
        QVERIFY(truncated.example.untruncatedLength > 100);

        auto beyond =
            tokenizeRecord(conversationRecord({{"user", std::string(60, 'q')}, {"assistant", "A"}}, 7),
                           m_chatml, m_tokenizer, shortOptions);
        QVERIFY(!beyond.ok);
        QCOMPARE(beyond.skipReason, std::string("answer beyond max length"));
        QVERIFY(beyond.detail.find("record 7 (line 7)") == 0);

        auto noAnswer =
            tokenizeRecord(conversationRecord({{"user", "Anyone?"}}, 2), m_chatml, m_tokenizer, {});
        QVERIFY(!noAnswer.ok);
        QCOMPARE(noAnswer.skipReason, std::string("no assistant turn"));
        QCOMPARE(noAnswer.detail,
                 std::string("record 2 (line 2): the conversation has no assistant turn, so there is "
                             "nothing to learn from it"));

        ChatTemplate mistral =
            ChatTemplate::fromJinja("{% for m in messages %}{% if m.role == 'system' %}{{ "
                                    "raise_exception('Only user and assistant roles are "
                                    "supported!') }}{% endif %}{{ m.content }}{% endfor %}",
                                    "<s>", "</s>");
        auto rejected =
            tokenizeRecord(conversationRecord({{"system", "S"}, {"user", "U"}, {"assistant", "A"}}), mistral,
                           m_tokenizer, {});
        QVERIFY(!rejected.ok);
        QCOMPARE(rejected.skipReason, std::string("rejected by the chat template"));
        QVERIFY(rejected.detail.find("Only user and assistant roles are supported!") != std::string::npos);
    }

    void conversationWithoutAssistantInAFile()
    {
        PrepareOptions options;
        auto prepared = prepareDataset(datasetPath("no_assistant.jsonl"), m_chatml, m_tokenizer, options);
        QCOMPARE(prepared.statistics.records, int64_t(2));
        QCOMPARE(prepared.statistics.used, int64_t(1));
        QCOMPARE(prepared.statistics.skipped, int64_t(1));
        QCOMPARE(prepared.statistics.skipReasons.size(), size_t(1));
        QCOMPARE(prepared.statistics.skipReasons[0].first, std::string("no assistant turn"));
        QVERIFY(prepared.statistics.skipDetails[0].find("record 2 (line 2)") == 0);

        QTemporaryDir dir;
        std::string onlyQuestions = dir.filePath("q.jsonl").toStdString();
        std::ofstream(onlyQuestions) << "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n";
        try {
            prepareDataset(onlyQuestions, m_chatml, m_tokenizer, options);
            QFAIL("expected an error");
        } catch (const Error &e) {
            std::string message = e.what();
            QVERIFY2(message.find("none of the 1 records can be trained on (no assistant turn: 1)") !=
                         std::string::npos,
                     e.what());
        }
    }

    void statisticsOfAFile()
    {
        PrepareOptions options;
        options.histogramBins = 4;
        auto prepared = prepareDataset(datasetPath("messages.jsonl"), m_chatml, m_tokenizer, options);
        const DatasetStatistics &stats = prepared.statistics;
        QCOMPARE(stats.records, int64_t(3));
        QCOMPARE(stats.used, int64_t(3));
        QCOMPARE(stats.format, std::string("messages"));
        QCOMPARE(stats.fileType, std::string("jsonl"));
        QCOMPARE(prepared.examples.size(), size_t(3));
        int64_t tokens = 0, trained = 0, longest = 0;
        for (const auto &example : prepared.examples) {
            tokens += static_cast<int64_t>(example.inputIds.size());
            trained += std::count_if(example.labels.begin(), example.labels.end(),
                                     [](int64_t l) { return l != kIgnoreLabel; });
            longest = std::max<int64_t>(longest, static_cast<int64_t>(example.inputIds.size()));
        }
        QCOMPARE(stats.tokens, tokens);
        QCOMPARE(stats.trainedTokens, trained);
        QCOMPARE(stats.maxLength, longest);
        QVERIFY(qAbs(stats.maskedFraction - (1.0 - double(trained) / double(tokens))) < 1e-12);
        QCOMPARE(stats.histogram.counts.size(), size_t(4));
        QCOMPARE(std::accumulate(stats.histogram.counts.begin(), stats.histogram.counts.end(), int64_t(0)),
                 int64_t(3));
        QVERIFY(stats.histogram.edges.back() > longest);
        QCOMPARE(stats.exampleRecord, int64_t(1));
        QCOMPARE(stats.exampleSegments.back().text, std::string("2+2 equals 4.<|im_end|>\n"));
        nlohmann::json json = stats.toJson();
        QCOMPARE(json["used"].get<int64_t>(), int64_t(3));
        QCOMPARE(json["example"]["segments"].size(), stats.exampleSegments.size());

        options.read.sampleLimit = 2;
        options.keepExamples = false;
        auto limited = prepareDataset(datasetPath("messages.jsonl"), m_chatml, m_tokenizer, options);
        QCOMPARE(limited.statistics.records, int64_t(2));
        QVERIFY(limited.examples.empty());
    }

    void shufflingIsFixedAcrossLibraries()
    {
        // Expected orders from an independent Python implementation of mt19937_64 (checked against the
        // C++ standard's 10000th output, 9981545732273789042) and the same Fisher-Yates loop.
        QCOMPARE(shuffledIndices(10, 42), (std::vector<size_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
        QCOMPARE(shuffledIndices(7, 0), (std::vector<size_t>{4, 0, 1, 2, 6, 5, 3}));
        std::mt19937_64 engine;
        engine.discard(9999);
        QCOMPARE(engine(), 9981545732273789042ull);
        auto big = shuffledIndices(1000, 7);
        QCOMPARE(std::set<size_t>(big.begin(), big.end()).size(), size_t(1000));
        QVERIFY(big != shuffledIndices(1000, 8));
    }

    void trainValidationSplit()
    {
        std::vector<TokenizedExample> examples;
        for (int i = 0; i < 8; ++i) {
            examples.push_back(exampleOfLength(3, 10 * i));
            examples.back().recordNumber = i + 1;
        }
        auto split = splitTrainValidation(examples, 0.25, 0, 42);
        QCOMPARE(split.validation.size(), size_t(2));
        QCOMPARE(split.train.size(), size_t(6));
        // The first two of shuffledIndices(8, 42) are held out; both parts keep file order.
        auto order = shuffledIndices(8, 42);
        std::set<int64_t> held{int64_t(order[0] + 1), int64_t(order[1] + 1)};
        QCOMPARE((std::set<int64_t>{split.validation[0].recordNumber, split.validation[1].recordNumber}),
                 held);
        QVERIFY(split.validation[0].recordNumber < split.validation[1].recordNumber);
        auto again = splitTrainValidation(examples, 0.25, 0, 42);
        QCOMPARE(again.validation[0].recordNumber, split.validation[0].recordNumber);
        QCOMPARE(splitTrainValidation(examples, 0, 3, 1).validation.size(), size_t(3));
        QCOMPARE(splitTrainValidation(examples, 0, 0, 1).train.size(), size_t(8));
        QVERIFY_THROWS_EXCEPTION(Error, splitTrainValidation(examples, 0, 8, 1));
    }

    void paddedBatches()
    {
        std::vector<TokenizedExample> examples{exampleOfLength(3, 10), exampleOfLength(5, 20)};
        BatchOptions options;
        options.batchSize = 2;
        options.shuffle = false;
        options.padId = 99;
        auto plan = planBatches(examples, options);
        QCOMPARE(plan.size(), size_t(1));
        Batch batch = collateBatch(examples, plan[0], options);
        QCOMPARE(batch.inputIds.sizes().vec(), (std::vector<int64_t>{2, 5}));
        QCOMPARE(batch.inputIds[0][3].item<int64_t>(), int64_t(99));
        QCOMPARE(batch.labels[0][3].item<int64_t>(), kIgnoreLabel);
        QCOMPARE(batch.labels[1][4].item<int64_t>(), int64_t(24));
        QCOMPARE(batch.attentionMask.sum().item<int64_t>(), int64_t(8));
        QCOMPARE(batch.positionIds[1][4].item<int64_t>(), int64_t(4));
        QCOMPARE(batch.tokens, int64_t(8));
        QCOMPARE(batch.trainedTokens, int64_t(6));
        QCOMPARE(batch.documentIds[0][4].item<int64_t>(), int64_t(-1));
    }

    void packedBatches()
    {
        std::vector<TokenizedExample> examples{exampleOfLength(3, 10), exampleOfLength(4, 20),
                                               exampleOfLength(5, 30)};
        BatchOptions options;
        options.batchSize = 4;
        options.packing = true;
        options.rowLength = 8;
        options.shuffle = false;
        auto plan = planBatches(examples, options);
        QCOMPARE(plan.size(), size_t(1));
        QCOMPARE(plan[0].size(), size_t(2));
        QCOMPARE(plan[0][0], (std::vector<size_t>{0, 1}));
        Batch batch = collateBatch(examples, plan[0], options);
        QCOMPARE(batch.inputIds.sizes().vec(), (std::vector<int64_t>{2, 8}));
        auto positions = batch.positionIds[0];
        QCOMPARE(positions[3].item<int64_t>(), int64_t(0)); // second document restarts
        QCOMPARE(batch.documentIds[0][3].item<int64_t>(), int64_t(1));
        QCOMPARE(batch.labels[0][3].item<int64_t>(),
                 kIgnoreLabel); // never predicted from the previous document
        QCOMPARE(batch.labels[0][4].item<int64_t>(), int64_t(21));
        QCOMPARE(batch.attentionMask[0].sum().item<int64_t>(), int64_t(7));
        QCOMPARE(batch.attentionMask[1].sum().item<int64_t>(), int64_t(5));

        options.shuffle = true;
        options.seed = 3;
        auto epoch0 = planBatches(examples, options, 0);
        QCOMPARE(planBatches(examples, options, 0), epoch0);
        size_t packed = 0;
        for (const auto &row : epoch0[0])
            packed += row.size();
        QCOMPARE(packed, size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestTrainingExamples)
#include "test_training_examples.moc"
