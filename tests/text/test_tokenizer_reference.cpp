// Token ids and decoded text against the Hugging Face `tokenizers` library: the real SmolLM2
// tokenizer.json (from the demo GGUF via transformers) and SentencePiece / Llama 3 / Qwen2 style files
// built by tests/reference/tokenizer_golden.py, over a varied corpus, random id sequences and ~1 MB.
#include "emloc/text/tokenizer.h"

#include "test_support.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>

using namespace emloc::core;
using nlohmann::json;

namespace {

std::string readAll(const QString &path)
{
    std::ifstream file(path.toStdString(), std::ios::binary);
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

std::string idsText(const std::vector<int64_t> &ids)
{
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i)
        out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "]";
}

// Collects mismatches and reports the first few in full.
struct Mismatches
{
    int count = 0;
    void add(const std::string &what)
    {
        if (++count <= 15)
            qWarning("%s", what.c_str());
    }
};

} // namespace

class TestTokenizerReference : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    json m_golden;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto result = emloc::test::runPythonScript("tokenizer_golden.py",
                                                         {m_dir.path(), emloc::test::demoGgufPath()}, 900000);
        QVERIFY2(result.exitCode == 0, (result.out + result.err).constData());
        m_golden = json::parse(readAll(m_dir.filePath("golden.json")));
        QCOMPARE(m_golden["tokenizers"].size(), size_t(7));
    }

    void encodeAndDecodeMatchTokenizers()
    {
        int cases = 0;
        Mismatches mismatches;
        for (const json &entry : m_golden["tokenizers"]) {
            const std::string name = entry["name"];
            const auto tokenizer = Tokenizer::fromFile(entry["file"].get<std::string>());
            if (tokenizer->vocabSize() != entry["id_limit"].get<int64_t>())
                mismatches.add(name + ": vocabSize " + std::to_string(tokenizer->vocabSize()) + " expected " +
                               entry["id_limit"].dump());
            for (const json &c : entry["cases"]) {
                const std::string text = c["text"];
                const std::string where = name + " on " + json(text).dump();
                const auto ids = tokenizer->encode(text, false);
                const auto expected = c["ids"].get<std::vector<int64_t>>();
                if (ids != expected)
                    mismatches.add(where + ": ids " + idsText(ids) + " expected " + idsText(expected));
                const auto withSpecial = c["ids_special"].get<std::vector<int64_t>>();
                const auto idsSpecial = tokenizer->encode(text, true);
                if (idsSpecial != withSpecial)
                    mismatches.add(where + ": ids with special tokens " + idsText(idsSpecial) + " expected " +
                                   idsText(withSpecial));
                const std::string decoded = tokenizer->decode(withSpecial, false);
                if (decoded != c["decoded"].get<std::string>())
                    mismatches.add(where + ": decoded " + json(decoded).dump() + " expected " +
                                   c["decoded"].dump());
                const std::string decodedSkip = tokenizer->decode(withSpecial, true);
                if (decodedSkip != c["decoded_skip"].get<std::string>())
                    mismatches.add(where + ": decoded skipping specials " + json(decodedSkip).dump() +
                                   " expected " + c["decoded_skip"].dump());
                if (entry["lossless"].get<bool>() && tokenizer->decode(ids, false) != text)
                    mismatches.add(where + ": decode(encode(text)) differs from the text");
                ++cases;
            }
            for (const json &c : entry["decode_cases"]) {
                const auto ids = c["ids"].get<std::vector<int64_t>>();
                const std::string decoded = tokenizer->decode(ids, false);
                if (decoded != c["decoded"].get<std::string>())
                    mismatches.add(name + ": decode " + idsText(ids) + " gave " + json(decoded).dump() +
                                   " expected " + c["decoded"].dump());
                const std::string decodedSkip = tokenizer->decode(ids, true);
                if (decodedSkip != c["decoded_skip"].get<std::string>())
                    mismatches.add(name + ": decode (skip special) " + idsText(ids) + " gave " +
                                   json(decodedSkip).dump() + " expected " + c["decoded_skip"].dump());
                ++cases;
            }
        }
        qInfo("%d cases compared, %d mismatches", cases, mismatches.count);
        QVERIFY(cases > 700);
        QCOMPARE(mismatches.count, 0);
    }

    void megabyteTextMatchesAndThroughput()
    {
        const std::string big = readAll(m_dir.filePath("big.txt"));
        QVERIFY(big.size() >= 1000000);
        int compared = 0;
        for (const json &entry : m_golden["tokenizers"]) {
            if (!entry.contains("big_ids"))
                continue;
            const auto tokenizer = Tokenizer::fromFile(entry["file"].get<std::string>());
            QElapsedTimer timer;
            timer.start();
            const auto ids = tokenizer->encode(big, false);
            const double seconds = std::max(1e-9, timer.nsecsElapsed() * 1e-9);
            timer.restart();
            const auto again = tokenizer->encode(big, false); // with a warm word cache
            const double warmSeconds = std::max(1e-9, timer.nsecsElapsed() * 1e-9);
            timer.restart();
            const std::string decoded = tokenizer->decode(ids, false);
            const double decodeSeconds = std::max(1e-9, timer.nsecsElapsed() * 1e-9);
            qInfo("%s: %zu bytes -> %zu tokens; encode %.3f s (%.0f tokens/s, %.2f MB/s), warm cache %.3f s "
                  "(%.0f tokens/s), decode %.3f s",
                  entry["name"].get<std::string>().c_str(), big.size(), ids.size(), seconds,
                  ids.size() / seconds, big.size() / seconds / 1e6, warmSeconds, ids.size() / warmSeconds,
                  decodeSeconds);
            const auto expected = entry["big_ids"].get<std::vector<int64_t>>();
            QCOMPARE(ids.size(), expected.size());
            QVERIFY(ids == expected);
            QVERIFY(again == expected);
            if (entry["lossless"].get<bool>())
                QVERIFY(decoded == big);
            ++compared;
        }
        QCOMPARE(compared, 3);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerReference)
#include "test_tokenizer_reference.moc"
