// The demo SmolLM2 GGUF through the command line: converted to a Hugging Face folder that transformers
// runs like the GGUF itself, exported back to GGUF (from the folder) that llama.cpp runs like
// transformers, and failures that leave nothing behind.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/gguf_file.h"
#include "gguf_model.h"
#include "test_support.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace emloc::core;
using emloc::test::runCli;
using emloc::test::runPythonScript;

namespace {

nlohmann::json readJson(const QString &path)
{
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in);
}

QByteArray tail(const emloc::test::ProcessResult &result)
{
    return (result.out + result.err).right(3000);
}

} // namespace

class TestGgufConvert : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString hfFolder() const { return m_dir.filePath("smollm2-hf"); }

private Q_SLOTS:
    void convertWithCli()
    {
        QElapsedTimer timer;
        timer.start();
        auto result = runCli({"--json", "convert", emloc::test::demoGgufPath(), hfFolder()}, 600000);
        QVERIFY2(result.exitCode == 0, tail(result).constData());
        qInfo("emloc convert: %.1f s", timer.elapsed() / 1000.0);
        const nlohmann::json summary = nlohmann::json::parse(result.out.toStdString());
        QCOMPARE(summary["dtype"].get<std::string>(), std::string("float32"));
        for (const char *file : {"config.json", "model.safetensors", "tokenizer.json",
                                 "tokenizer_config.json", "generation_config.json"})
            QVERIFY2(QFileInfo::exists(QDir(hfFolder()).filePath(file)), file);
        const nlohmann::json config = readJson(QDir(hfFolder()).filePath("config.json"));
        QCOMPARE(config["model_type"].get<std::string>(), std::string("llama"));
        QCOMPARE(config["num_key_value_heads"].get<int>(), 3);
        QCOMPARE(config["tie_word_embeddings"].get<bool>(), true);
        // No temporary folder left beside the result.
        QCOMPARE(QDir(m_dir.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), QStringList{"smollm2-hf"});
    }

    void convertedFolderMatchesTransformersGguf()
    {
        auto result = runPythonScript("gguf_check.py",
                                      {"convert_logits", hfFolder(), emloc::test::demoGgufPath()}, 600000);
        qInfo("%s", result.out.trimmed().constData());
        QVERIFY2(result.exitCode == 0, tail(result).constData());
    }

    void refusesToOverwrite()
    {
        auto result = runCli({"convert", emloc::test::demoGgufPath(), hfFolder()});
        QCOMPARE(result.exitCode, 1);
        QVERIFY2(result.err.contains("not empty"), result.err.constData());
        result = runCli({"convert", emloc::test::demoGgufPath(), m_dir.filePath("x"), "--dtype", "float8"});
        QCOMPARE(result.exitCode, 2);
        result = runCli({"convert", m_dir.filePath("missing.gguf"), m_dir.filePath("y")});
        QCOMPARE(result.exitCode, 1);
        QVERIFY(!QFileInfo::exists(m_dir.filePath("y")));
    }

    void cancelledConversionLeavesNothing()
    {
        class CancelAfter : public Feedback
        {
        public:
            void progress(const std::string &, int64_t done, int64_t) override
            {
                if (done == 20)
                    cancel();
            }
        } feedback;
        ModelFiles model = openGgufModel(emloc::test::demoGgufPath().toStdString());
        const QString out = m_dir.filePath("cancelled");
        QVERIFY_THROWS_EXCEPTION(CancelledError,
                                 convertToHuggingFace(model, out.toStdString(), "float16", &feedback));
        QVERIFY(!QFileInfo::exists(out));
        const QStringList left =
            QDir(m_dir.path()).entryList({"cancelled*"}, QDir::AllEntries | QDir::NoDotAndDotDot);
        QVERIFY2(left.isEmpty(), left.join(", ").toUtf8().constData());
    }

    void exportFromHuggingFaceFolder()
    {
        // The folder path exercises the tokenizer.json -> tokenizer.ggml.* direction.
        const QString out = m_dir.filePath("from-hf-f32.gguf");
        auto result = runCli({"export-gguf", hfFolder(), out, "--dtype", "F32"}, 600000);
        QVERIFY2(result.exitCode == 0, tail(result).constData());

        GgufFile ours(out.toStdString());
        GgufFile original(emloc::test::demoGgufPath().toStdString());
        for (const char *key :
             {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
              "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
              "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.chat_template",
              "tokenizer.ggml.model", "llama.block_count", "llama.context_length", "llama.embedding_length",
              "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
              "llama.rope.dimension_count"})
            QVERIFY2(ours.value(key).value == original.value(key).value, key);
        // transformers' tokenizer.json of a "smollm" file is GPT-2's ByteLevel, llama.cpp's "gpt-2".
        QCOMPARE(ours.string("tokenizer.ggml.pre"), std::string("gpt-2"));
        QCOMPARE(ours.number("llama.rope.freq_base"), original.number("llama.rope.freq_base"));
        QCOMPARE(ours.tensors().size(), original.tensors().size());
        for (const char *name : {"blk.4.attn_q.weight", "blk.4.attn_k.weight", "token_embd.weight"})
            QVERIFY2(torch::equal(ours.tensor(name), original.tensor(name)), name);

        result = runCli({"export-gguf", hfFolder(), m_dir.filePath("f16.gguf")}, 600000);
        QVERIFY2(result.exitCode == 0, tail(result).constData());
        QCOMPARE(GgufFile(m_dir.filePath("f16.gguf").toStdString()).tensorInfo("blk.0.ffn_up.weight").type,
                 GgmlType::F16);
    }

    void llamaCppRunsOurGguf()
    {
        const QString out = m_dir.filePath("from-hf-f32.gguf");
        QVERIFY(QFileInfo::exists(out));
        auto result = runPythonScript("gguf_check.py", {"llamacpp_logits", out, hfFolder()}, 600000);
        qInfo("%s", result.out.trimmed().constData());
        if (result.exitCode == 3)
            QFAIL("llama-cpp-python is missing from the venv: run scripts/setup.sh (it installs "
                  "llama-cpp-python==0.3.36)");
        QVERIFY2(result.exitCode == 0, tail(result).constData());
    }
};

QTEST_GUILESS_MAIN(TestGgufConvert)
#include "test_gguf_convert.moc"
