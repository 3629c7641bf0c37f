// Records to training examples with a small fake tokenizer: masking (single and multi-turn, across a
// merged boundary token), truncation, skips, shuffling, the split, batches, packing and statistics.
#include "fake_tokenizer.h"

#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_tokenize.h"

#include "unit_test.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace emloc::core;

namespace {

std::string datasetPath(const char *name)
{
    return emloc::test::testDataDir() + "/datasets/" + name;
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

// The tokenizer and template every case uses, made on first use.
struct State
{
    emloc::test::FakeTokenizer tokenizer;
    ChatTemplate chatml = ChatTemplate::builtin(TemplateKind::ChatML, "", "<|im_end|>");
};
State &state()
{
    static State s;
    return s;
}

} // namespace

TEST_CASE(onlyTheAssistantTurnIsTrained)
{
    auto result = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", "Hello there"}}),
                                 state().chatml, state().tokenizer, {});
    VERIFY(result.ok);
    COMPARE(textWhere(result.example, state().tokenizer, true), std::string("Hello there<|im_end|>\n"));
    COMPARE(textWhere(result.example, state().tokenizer, false),
            std::string("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
    COMPARE(result.example.inputIds.size(), result.example.labels.size());
    for (size_t i = 0; i < result.example.labels.size(); ++i)
        VERIFY(result.example.labels[i] == kIgnoreLabel ||
               result.example.labels[i] == result.example.inputIds[i]);
}

TEST_CASE(multiTurnMasksEveryNonAssistantTurn)
{
    auto record = conversationRecord({{"system", "S"},
                                      {"user", "Name a fruit."},
                                      {"assistant", "Apple."},
                                      {"user", "Another?"},
                                      {"assistant", "Banana."}});
    auto result = tokenizeRecord(record, state().chatml, state().tokenizer, {});
    VERIFY(result.ok);
    VERIFY(!result.notPrefixStable);
    auto segments = renderedSegments(result.example, state().tokenizer);
    COMPARE(segments.size(), size_t(4));
    COMPARE(segments[0].trained, false);
    COMPARE(segments[1].text, std::string("Apple.<|im_end|>\n"));
    COMPARE(segments[1].trained, true);
    COMPARE(segments[2].text, std::string("<|im_start|>user\nAnother?<|im_end|>\n<|im_start|>assistant\n"));
    COMPARE(segments[3].text, std::string("Banana.<|im_end|>\n"));
    COMPARE(segments[3].trained, true);
}

TEST_CASE(tokenMergedAcrossTheBoundaryIsTrained)
{
    // Alpaca's prompt ends with ":\n" and the answer starts with "Y": the fake tokenizer merges ":\nY"
    // into one token, which exists only in the full text. The mask follows the full text's tokens.
    ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "<s>", "</s>");
    auto result = tokenizeRecord(conversationRecord({{"user", "Q"}, {"assistant", "Yes"}}), alpaca,
                                 state().tokenizer, {});
    VERIFY(result.ok);
    COMPARE(result.example.inputIds.front(),
            state().tokenizer.tokenToId("<s>")); // BOS for base-model formats
    COMPARE(result.example.labels.front(), kIgnoreLabel);
    COMPARE(textWhere(result.example, state().tokenizer, true), std::string(":\nYes</s>"));
    std::string masked = textWhere(result.example, state().tokenizer, false);
    VERIFY(masked.size() > 10 && masked.substr(masked.size() - 10) == "# Response");
}

TEST_CASE(alpacaInputAndSystemPrompt)
{
    DatasetRecord record = conversationRecord({{"user", "Summarize."}, {"assistant", "Short."}});
    record.format = RecordFormat::Alpaca;
    record.alpacaInput = "Long text.";
    ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "", "");
    auto messages = conversationFor(record, alpaca, "Be kind.");
    COMPARE(messages.size(), size_t(3));
    COMPARE(messages[0].content, std::string("Be kind."));
    COMPARE(messages[1].content, std::string("Summarize.\n\n### Input:\nLong text."));
    COMPARE(conversationFor(record, state().chatml, "")[0].content, std::string("Summarize.\n\nLong text."));
    // A record's own system turn wins over the option.
    record.messages.insert(record.messages.begin(), {"system", "Own."});
    COMPARE(conversationFor(record, state().chatml, "Be kind.")[0].content, std::string("Own."));
}

TEST_CASE(trainOnAllTokensAndTextRecords)
{
    TokenizeOptions all;
    all.trainOnAllTokens = true;
    auto result = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", "Yo"}}), state().chatml,
                                 state().tokenizer, all);
    VERIFY(result.ok);
    COMPARE(result.example.labels, result.example.inputIds);

    DatasetRecord text;
    text.number = 1;
    text.format = RecordFormat::Text;
    text.text = "Hello world";
    ChatTemplate withEos = ChatTemplate::builtin(TemplateKind::Plain, "<s>", "</s>");
    auto doc = tokenizeRecord(text, withEos, state().tokenizer, {});
    VERIFY(doc.ok);
    COMPARE(doc.example.inputIds.front(), state().tokenizer.tokenToId("<s>"));
    COMPARE(doc.example.inputIds.back(), state().tokenizer.tokenToId("</s>"));
    COMPARE(doc.example.labels, doc.example.inputIds);
    COMPARE(state().tokenizer.decode(doc.example.inputIds, false), std::string("<s>Hello world</s>"));
}

TEST_CASE(truncationAndSkips)
{
    TokenizeOptions shortOptions;
    shortOptions.maxLength = 40;
    std::string longAnswer(100, 'a');
    auto truncated = tokenizeRecord(conversationRecord({{"user", "Hi"}, {"assistant", longAnswer}}),
                                    state().chatml, state().tokenizer, shortOptions);
    VERIFY(truncated.ok);
    VERIFY(truncated.example.truncated);
    COMPARE(truncated.example.inputIds.size(), size_t(40));
    COMPARE(truncated.example.labels.size(), size_t(40));
    VERIFY(truncated.example.untruncatedLength > 100);

    auto beyond = tokenizeRecord(conversationRecord({{"user", std::string(60, 'q')}, {"assistant", "A"}}, 7),
                                 state().chatml, state().tokenizer, shortOptions);
    VERIFY(!beyond.ok);
    COMPARE(beyond.skipReason, std::string("answer beyond max length"));
    VERIFY(beyond.detail.find("record 7 (line 7)") == 0);

    auto noAnswer =
        tokenizeRecord(conversationRecord({{"user", "Anyone?"}}, 2), state().chatml, state().tokenizer, {});
    VERIFY(!noAnswer.ok);
    COMPARE(noAnswer.skipReason, std::string("no assistant turn"));
    COMPARE(noAnswer.detail,
            std::string("record 2 (line 2): the conversation has no assistant turn, so there is "
                        "nothing to learn from it"));

    ChatTemplate mistral = ChatTemplate::fromJinja("{% for m in messages %}{% if m.role == 'system' %}{{ "
                                                   "raise_exception('Only user and assistant roles are "
                                                   "supported!') }}{% endif %}{{ m.content }}{% endfor %}",
                                                   "<s>", "</s>");
    auto rejected = tokenizeRecord(conversationRecord({{"system", "S"}, {"user", "U"}, {"assistant", "A"}}),
                                   mistral, state().tokenizer, {});
    VERIFY(!rejected.ok);
    COMPARE(rejected.skipReason, std::string("rejected by the chat template"));
    VERIFY(rejected.detail.find("Only user and assistant roles are supported!") != std::string::npos);
}

TEST_CASE(conversationWithoutAssistantInAFile)
{
    PrepareOptions options;
    auto prepared =
        prepareDataset(datasetPath("no_assistant.jsonl"), state().chatml, state().tokenizer, options);
    COMPARE(prepared.statistics.records, int64_t(2));
    COMPARE(prepared.statistics.used, int64_t(1));
    COMPARE(prepared.statistics.skipped, int64_t(1));
    COMPARE(prepared.statistics.skipReasons.size(), size_t(1));
    COMPARE(prepared.statistics.skipReasons[0].first, std::string("no assistant turn"));
    VERIFY(prepared.statistics.skipDetails[0].find("record 2 (line 2)") == 0);

    emloc::test::TempDir dir;
    std::string onlyQuestions = dir.filePath("q.jsonl");
    std::ofstream(onlyQuestions) << "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n";
    try {
        prepareDataset(onlyQuestions, state().chatml, state().tokenizer, options);
        FAIL("expected an error");
    } catch (const Error &e) {
        std::string message = e.what();
        VERIFY2(message.find("none of the 1 records can be trained on (no assistant turn: 1)") !=
                    std::string::npos,
                e.what());
    }
}

TEST_CASE(statisticsOfAFile)
{
    PrepareOptions options;
    options.histogramBins = 4;
    auto prepared = prepareDataset(datasetPath("messages.jsonl"), state().chatml, state().tokenizer, options);
    const DatasetStatistics &stats = prepared.statistics;
    COMPARE(stats.records, int64_t(3));
    COMPARE(stats.used, int64_t(3));
    COMPARE(stats.format, std::string("messages"));
    COMPARE(stats.fileType, std::string("jsonl"));
    COMPARE(prepared.examples.size(), size_t(3));
    int64_t tokens = 0, trained = 0, longest = 0;
    for (const auto &example : prepared.examples) {
        tokens += static_cast<int64_t>(example.inputIds.size());
        trained += std::count_if(example.labels.begin(), example.labels.end(),
                                 [](int64_t l) { return l != kIgnoreLabel; });
        longest = std::max<int64_t>(longest, static_cast<int64_t>(example.inputIds.size()));
    }
    COMPARE(stats.tokens, tokens);
    COMPARE(stats.trainedTokens, trained);
    COMPARE(stats.maxLength, longest);
    VERIFY(std::abs(stats.maskedFraction - (1.0 - double(trained) / double(tokens))) < 1e-12);
    COMPARE(stats.histogram.counts.size(), size_t(4));
    COMPARE(std::accumulate(stats.histogram.counts.begin(), stats.histogram.counts.end(), int64_t(0)),
            int64_t(3));
    VERIFY(stats.histogram.edges.back() > longest);
    COMPARE(stats.exampleRecord, int64_t(1));
    COMPARE(stats.exampleSegments.back().text, std::string("2+2 equals 4.<|im_end|>\n"));
    nlohmann::json json = stats.toJson();
    COMPARE(json["used"].get<int64_t>(), int64_t(3));
    COMPARE(json["example"]["segments"].size(), stats.exampleSegments.size());

    options.read.sampleLimit = 2;
    options.keepExamples = false;
    auto limited = prepareDataset(datasetPath("messages.jsonl"), state().chatml, state().tokenizer, options);
    COMPARE(limited.statistics.records, int64_t(2));
    VERIFY(limited.examples.empty());
}

TEST_CASE(shufflingIsFixedAcrossLibraries)
{
    // Expected orders from an independent Python implementation of mt19937_64 (checked against the
    // C++ standard's 10000th output, 9981545732273789042) and the same Fisher-Yates loop.
    COMPARE(shuffledIndices(10, 42), (std::vector<size_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
    COMPARE(shuffledIndices(7, 0), (std::vector<size_t>{4, 0, 1, 2, 6, 5, 3}));
    std::mt19937_64 engine;
    engine.discard(9999);
    COMPARE(engine(), 9981545732273789042ull);
    auto big = shuffledIndices(1000, 7);
    COMPARE(std::set<size_t>(big.begin(), big.end()).size(), size_t(1000));
    VERIFY(big != shuffledIndices(1000, 8));
}

TEST_CASE(trainValidationSplit)
{
    std::vector<TokenizedExample> examples;
    for (int i = 0; i < 8; ++i) {
        examples.push_back(exampleOfLength(3, 10 * i));
        examples.back().recordNumber = i + 1;
    }
    auto split = splitTrainValidation(examples, 0.25, 0, 42);
    COMPARE(split.validation.size(), size_t(2));
    COMPARE(split.train.size(), size_t(6));
    // The first two of shuffledIndices(8, 42) are held out; both parts keep file order.
    auto order = shuffledIndices(8, 42);
    std::set<int64_t> held{int64_t(order[0] + 1), int64_t(order[1] + 1)};
    COMPARE((std::set<int64_t>{split.validation[0].recordNumber, split.validation[1].recordNumber}), held);
    VERIFY(split.validation[0].recordNumber < split.validation[1].recordNumber);
    auto again = splitTrainValidation(examples, 0.25, 0, 42);
    COMPARE(again.validation[0].recordNumber, split.validation[0].recordNumber);
    COMPARE(splitTrainValidation(examples, 0, 3, 1).validation.size(), size_t(3));
    COMPARE(splitTrainValidation(examples, 0, 0, 1).train.size(), size_t(8));
    VERIFY_THROWS(Error, splitTrainValidation(examples, 0, 8, 1));
}

TEST_CASE(paddedBatches)
{
    std::vector<TokenizedExample> examples{exampleOfLength(3, 10), exampleOfLength(5, 20)};
    BatchOptions options;
    options.batchSize = 2;
    options.shuffle = false;
    options.padId = 99;
    auto plan = planBatches(examples, options);
    COMPARE(plan.size(), size_t(1));
    Batch batch = collateBatch(examples, plan[0], options);
    COMPARE(batch.inputIds.sizes().vec(), (std::vector<int64_t>{2, 5}));
    COMPARE(batch.inputIds[0][3].item<int64_t>(), int64_t(99));
    COMPARE(batch.labels[0][3].item<int64_t>(), kIgnoreLabel);
    COMPARE(batch.labels[1][4].item<int64_t>(), int64_t(24));
    COMPARE(batch.attentionMask.sum().item<int64_t>(), int64_t(8));
    COMPARE(batch.positionIds[1][4].item<int64_t>(), int64_t(4));
    COMPARE(batch.tokens, int64_t(8));
    COMPARE(batch.trainedTokens, int64_t(6));
    COMPARE(batch.documentIds[0][4].item<int64_t>(), int64_t(-1));
}

TEST_CASE(packedBatches)
{
    std::vector<TokenizedExample> examples{exampleOfLength(3, 10), exampleOfLength(4, 20),
                                           exampleOfLength(5, 30)};
    BatchOptions options;
    options.batchSize = 4;
    options.packing = true;
    options.rowLength = 8;
    options.shuffle = false;
    auto plan = planBatches(examples, options);
    COMPARE(plan.size(), size_t(1));
    COMPARE(plan[0].size(), size_t(2));
    COMPARE(plan[0][0], (std::vector<size_t>{0, 1}));
    Batch batch = collateBatch(examples, plan[0], options);
    COMPARE(batch.inputIds.sizes().vec(), (std::vector<int64_t>{2, 8}));
    auto positions = batch.positionIds[0];
    COMPARE(positions[3].item<int64_t>(), int64_t(0)); // second document restarts
    COMPARE(batch.documentIds[0][3].item<int64_t>(), int64_t(1));
    COMPARE(batch.labels[0][3].item<int64_t>(),
            kIgnoreLabel); // never predicted from the previous document
    COMPARE(batch.labels[0][4].item<int64_t>(), int64_t(21));
    COMPARE(batch.attentionMask[0].sum().item<int64_t>(), int64_t(7));
    COMPARE(batch.attentionMask[1].sum().item<int64_t>(), int64_t(5));

    options.shuffle = true;
    options.seed = 3;
    auto epoch0 = planBatches(examples, options, 0);
    COMPARE(planBatches(examples, options, 0), epoch0);
    size_t packed = 0;
    for (const auto &row : epoch0[0])
        packed += row.size();
    COMPARE(packed, size_t(3));
}
