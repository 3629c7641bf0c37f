// openModel on Hugging Face folders written by transformers (single file and sharded), on the demo
// GGUF, and on every kind of wrong path, each with an Error that says what is expected.
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/model_files.h"

#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace emloc::core;
using nlohmann::json;

namespace {
template <typename Body> QString errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return QString::fromStdString(e.what());
    }
    return QString();
}

void copyFolder(const QString &from, const QString &to)
{
    QDir().mkpath(to);
    for (const QString &name : QDir(from).entryList(QDir::Files))
        QFile::copy(QDir(from).filePath(name), QDir(to).filePath(name));
}
} // namespace

class TestModelFiles : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"model", m_dir.path()});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        m_expected = json::parse(readTextFile(m_dir.filePath("expected.json").toStdString()));
    }

    void opensTransformersFolders_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::newRow("single") << "single";
        QTest::newRow("sharded") << "sharded";
    }

    void opensTransformersFolders()
    {
        QFETCH(QString, folder);
        const ModelFiles files = openModel(m_dir.filePath(folder).toStdString());
        QCOMPARE(files.format, std::string("hf"));
        QCOMPARE(files.config.modelType, std::string("llama"));
        QCOMPARE(files.config.hiddenSize, int64_t(32));
        QCOMPARE(files.config.numLayers, int64_t(2));
        QVERIFY(!files.config.tieWordEmbeddings);
        QVERIFY(files.generationConfig.is_object() && files.generationConfig.value("eos_token_id", -1) == 2);
        QVERIFY(files.tokenizerJson.is_object() && files.tokenizerJson.empty());
        QVERIFY(files.tokenizerConfig.is_object() && files.tokenizerConfig.empty());

        const std::vector<std::string> names = files.weights->names();
        QCOMPARE(names.size(), m_expected.size());
        double maxError = 0.0;
        for (const auto &[name, want] : m_expected.items()) {
            QVERIFY2(files.weights->contains(name), name.c_str());
            QVERIFY(files.weights->shape(name) == want["shape"].get<std::vector<int64_t>>());
            const torch::Tensor got = files.weights->tensor(name).to(torch::kFloat64).flatten();
            const torch::Tensor expected =
                torch::tensor(want["values"].get<std::vector<double>>(), torch::kFloat64);
            maxError = std::max(maxError, (got - expected).abs().max().item<double>());
        }
        QVERIFY2(maxError == 0.0, qPrintable("max |error| " + QString::number(maxError, 'g', 17)));
        const QString message = errorOf([&] { files.weights->tensor("model.layers.9.mlp.up_proj.weight"); });
        QVERIFY2(message.contains("model.layers.9.mlp.up_proj.weight"), qPrintable(message));
    }

    void readsTokenizerFilesAndRejectsMalformedOnes()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath("model");
        copyFolder(m_dir.filePath("single"), folder);
        writeFileAtomically((folder + "/tokenizer.json").toStdString(),
                            R"({"version":"1.0","model":{"type":"BPE"}})");
        writeFileAtomically((folder + "/tokenizer_config.json").toStdString(),
                            R"({"chat_template":"{{ x }}"})");
        ModelFiles files = openModel(folder.toStdString());
        QCOMPARE(files.tokenizerJson["model"]["type"].get<std::string>(), std::string("BPE"));
        QCOMPARE(files.tokenizerConfig["chat_template"].get<std::string>(), std::string("{{ x }}"));

        writeFileAtomically((folder + "/tokenizer_config.json").toStdString(), R"({"chat_template": )");
        const QString message = errorOf([&] { openModel(folder.toStdString()); });
        QVERIFY2(message.contains(folder + "/tokenizer_config.json"), qPrintable(message));
    }

    void wrongPathsSayWhatIsExpected()
    {
        QTemporaryDir dir;
        QString message = errorOf([&] { openModel(dir.filePath("nowhere").toStdString()); });
        QVERIFY2(message.contains("nowhere") && message.contains("does not exist") &&
                     message.contains(".gguf"),
                 qPrintable(message));

        const std::string text = dir.filePath("notes.txt").toStdString();
        writeFileAtomically(text, "hello");
        message = errorOf([&] { openModel(text); });
        QVERIFY2(message.contains("notes.txt") && message.contains("neither"), qPrintable(message));

        const QString empty = dir.filePath("empty");
        QDir().mkdir(empty);
        message = errorOf([&] { openModel(empty.toStdString()); });
        QVERIFY2(message.contains(empty) && message.contains("config.json"), qPrintable(message));

        const QString withGguf = dir.filePath("with-gguf");
        QDir().mkdir(withGguf);
        writeFileAtomically((withGguf + "/model.Q4_0.gguf").toStdString(), "GGUF");
        message = errorOf([&] { openModel(withGguf.toStdString()); });
        QVERIFY2(message.contains("model.Q4_0.gguf"), qPrintable(message));

        const QString noWeights = dir.filePath("no-weights");
        QDir().mkdir(noWeights);
        QFile::copy(m_dir.filePath("single/config.json"), noWeights + "/config.json");
        message = errorOf([&] { openModel(noWeights.toStdString()); });
        QVERIFY2(message.contains(noWeights) && message.contains("model.safetensors"), qPrintable(message));
    }

    void weightsThatDoNotMatchTheConfig()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath("model");
        copyFolder(m_dir.filePath("single"), folder);
        const std::string configPath = (folder + "/config.json").toStdString();
        json config = json::parse(readTextFile(configPath));

        config["vocab_size"] = 128;
        writeFileAtomically(configPath, config.dump());
        QString message = errorOf([&] { openModel(folder.toStdString()); });
        QVERIFY2(message.contains("model.embed_tokens.weight") && message.contains("128"),
                 qPrintable(message));

        config["vocab_size"] = 64;
        config["num_hidden_layers"] = 3;
        writeFileAtomically(configPath, config.dump());
        message = errorOf([&] { openModel(folder.toStdString()); });
        QVERIFY2(message.contains("model.layers.2.") && message.contains("3 layers"), qPrintable(message));
    }

    void missingShardIsNamed()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath("model");
        copyFolder(m_dir.filePath("sharded"), folder);
        QVERIFY(QFile::remove(folder + "/model-00002-of-00005.safetensors"));
        const QString message = errorOf([&] { openModel(folder.toStdString()); });
        QVERIFY2(message.contains("model.safetensors.index.json") &&
                     message.contains("model-00002-of-00005.safetensors"),
                 qPrintable(message));
    }

    void opensTheDemoGguf()
    {
        const QString path = emloc::test::demoGgufPath();
        if (!QFile::exists(path))
            QFAIL(qPrintable("the demo model is missing: " + path + " (run scripts/setup.sh)"));
        const ModelFiles files = openModel(path.toStdString());
        QCOMPARE(files.format, std::string("gguf"));
        QCOMPARE(files.path, path.toStdString());
        QCOMPARE(files.config.modelType, std::string("llama"));
        QCOMPARE(files.config.hiddenSize, int64_t(576));
        QCOMPARE(files.config.numLayers, int64_t(30));
        QVERIFY(files.weights->contains("model.embed_tokens.weight"));
    }

private:
    QTemporaryDir m_dir;
    json m_expected;
};

QTEST_GUILESS_MAIN(TestModelFiles)
#include "test_model_files.moc"
