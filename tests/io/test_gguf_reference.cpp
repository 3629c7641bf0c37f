// GGUF against llama.cpp's `gguf` Python package and transformers: dequantisation of every block type,
// tokenizer.json rebuilt from metadata, files our writer produced read back by GGUFReader, and the
// demo model exported and re-read.
#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"
#include "gguf_model.h"
#include "gguf_tokenizer.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <set>

using namespace emloc::core;
using emloc::test::runPythonScript;

namespace {

nlohmann::json lastJsonLine(const QByteArray &out)
{
    const QList<QByteArray> lines = out.trimmed().split('\n');
    return nlohmann::json::parse(lines.isEmpty() ? QByteArray("{}").toStdString()
                                                 : lines.last().toStdString());
}

nlohmann::json readJson(const QString &path)
{
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in);
}

void writeJson(const QString &path, const nlohmann::json &value)
{
    std::ofstream(path.toStdString()) << value.dump();
}

#define RUN_PYTHON(result, script, args, timeout)                                                            \
    const auto result = runPythonScript(script, args, timeout);                                              \
    QVERIFY2(result.exitCode == 0, (result.out + result.err).right(3000).constData())

// The added tokens as (id, content, special) triples: the JSON-level identity of what stays whole.
std::set<std::tuple<int64_t, std::string, bool>> addedTokens(const nlohmann::json &tokenizer)
{
    std::set<std::tuple<int64_t, std::string, bool>> out;
    for (const auto &t : tokenizer["added_tokens"])
        out.emplace(t["id"].get<int64_t>(), t["content"].get<std::string>(), t["special"].get<bool>());
    return out;
}

} // namespace

class TestGgufReference : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        RUN_PYTHON(quants, "gguf_fixtures.py", (QStringList{"quants", m_dir.path()}), 120000);
        RUN_PYTHON(tokenizers, "gguf_fixtures.py",
                   (QStringList{"tokenizers", m_dir.path(), emloc::test::demoGgufPath()}), 120000);
    }

    void dequantisationMatchesGgufPackage()
    {
        GgufFile data(m_dir.filePath("quants.gguf").toStdString());
        GgufFile reference(m_dir.filePath("quants_ref.gguf").toStdString());
        const std::vector<std::string> expected = {"F32",  "F16",  "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0",
                                                   "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
        QCOMPARE(data.tensors().size(), expected.size());
        for (const std::string &typeName : expected) {
            const std::string name = "t." + typeName;
            QCOMPARE(ggmlTypeName(data.tensorInfo(name).type), typeName);
            auto ours = data.tensor(name).to(torch::kFloat64);
            auto ref = reference.tensor(name).to(torch::kFloat64);
            QCOMPARE(ours.sizes(), ref.sizes());
            const double diff = (ours - ref).abs().max().item<double>();
            const double scale = ref.abs().max().item<double>();
            qInfo("%-5s max |ours - gguf.quants| = %.3g (values up to %.3g)", typeName.c_str(), diff, scale);
            // Same float32 operations in the same order: equal up to rounding of fused multiply-adds.
            QVERIFY2(diff <= 1e-6 * std::max(1.0, scale),
                     (name + " differs by " + std::to_string(diff)).c_str());
            QVERIFY2(scale > 0, "reference tensor is all zeros: the check would prove nothing");
        }
    }

    void tokenizerMatchesTransformers_data()
    {
        QTest::addColumn<QString>("gguf");
        QTest::newRow("smollm2 (gpt2, smollm)") << emloc::test::demoGgufPath();
        QTest::newRow("gpt2 / llama-bpe split, add_bos") << m_dir.filePath("tok_llama-bpe.gguf");
        QTest::newRow("gpt2 / qwen2 split") << m_dir.filePath("tok_qwen2.gguf");
        QTest::newRow("gpt2 / gpt2") << m_dir.filePath("tok_gpt2.gguf");
        QTest::newRow("llama (sentencepiece BPE)") << m_dir.filePath("tok_spm.gguf");
    }

    void tokenizerMatchesTransformers()
    {
        QFETCH(QString, gguf);
        const QString gold = m_dir.filePath("gold-" + QString::number(qHash(gguf)));
        RUN_PYTHON(goldRun, "gguf_fixtures.py", (QStringList{"gold", gguf, gold}), 180000);
        const nlohmann::json reference = readJson(gold + "/tokenizer.json");
        const nlohmann::json referenceConfig = readJson(gold + "/tokenizer_config.json");

        GgufFile file(gguf.toStdString());
        const nlohmann::json ours = ggufTokenizerJson(file);
        const nlohmann::json oursConfig = ggufTokenizerConfig(file);
        for (const char *field :
             {"type", "vocab", "merges", "byte_fallback", "fuse_unk", "unk_token", "dropout",
              "continuing_subword_prefix", "end_of_word_suffix", "ignore_merges"})
            QVERIFY2(ours["model"][field] == reference["model"][field], field);
        for (const char *part : {"normalizer", "pre_tokenizer", "decoder", "post_processor"})
            QVERIFY2(ours[part] == reference[part],
                     (std::string(part) + ": ours " + ours[part].dump() + " vs " + reference[part].dump())
                         .c_str());
        QVERIFY(addedTokens(ours) == addedTokens(reference));
        for (const char *token : {"bos_token", "eos_token", "unk_token", "pad_token"})
            QVERIFY2(oursConfig.value(token, nlohmann::json()) ==
                         referenceConfig.value(token, nlohmann::json()),
                     token);

        const QString oursPath = gold + "/ours.json";
        writeJson(oursPath, ours);
        RUN_PYTHON(ids, "gguf_fixtures.py", (QStringList{"compare_ids", oursPath, gold + "/tokenizer.json"}),
                   120000);
        qInfo("%s", lastJsonLine(ids.out).dump().substr(0, 200).c_str());
    }

    void writerOutputReadByGgufPackage()
    {
        GgufWriter writer(64);
        nlohmann::json keys = nlohmann::json::array();
        auto add = [&](const std::string &key, const GgufValue &value, std::vector<std::string> types) {
            writer.set(key, value);
            keys.push_back({{"key", key}, {"value", value.value}, {"types", types}});
        };
        add("general.alignment", GgufValue::uint32(64), {"UINT32"});
        add("general.architecture", GgufValue::string("llama"), {"STRING"});
        add("t.u8", {GgufValueType::UInt8, GgufValueType::UInt8, 250}, {"UINT8"});
        add("t.i8", {GgufValueType::Int8, GgufValueType::UInt8, -3}, {"INT8"});
        add("t.u16", {GgufValueType::UInt16, GgufValueType::UInt8, 65000}, {"UINT16"});
        add("t.i16", {GgufValueType::Int16, GgufValueType::UInt8, -32000}, {"INT16"});
        add("t.u32", GgufValue::uint32(4000000000u), {"UINT32"});
        add("t.i32", GgufValue::int32(-7), {"INT32"});
        add("t.f32", GgufValue::float32(1.5f), {"FLOAT32"});
        add("t.bool", GgufValue::boolean(true), {"BOOL"});
        add("t.u64", GgufValue::uint64(1ull << 50), {"UINT64"});
        add("t.i64", {GgufValueType::Int64, GgufValueType::UInt8, -(1ll << 50)}, {"INT64"});
        add("t.f64", {GgufValueType::Float64, GgufValueType::UInt8, 0.1}, {"FLOAT64"});
        add("t.string", GgufValue::string("caf\xc3\xa9 \xe6\x97\xa5"), {"STRING"});
        add("t.strings", GgufValue::array(GgufValueType::String, {"x", "", "y z"}), {"ARRAY", "STRING"});
        add("t.ints", GgufValue::array(GgufValueType::Int32, {1, -2, 3}), {"ARRAY", "INT32"});
        add("t.floats", GgufValue::array(GgufValueType::Float32, {0.5, -0.25}), {"ARRAY", "FLOAT32"});

        torch::manual_seed(3);
        nlohmann::json tensors = nlohmann::json::array();
        auto addTensor = [&](const std::string &name, const torch::Tensor &values, GgmlType type,
                             double tol) {
            writer.addTensor(name, values, type);
            auto flat = values.reshape({-1}).to(torch::kFloat64);
            std::vector<double> list(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
            std::vector<int64_t> dims(values.sizes().rbegin(), values.sizes().rend());
            tensors.push_back({{"name", name},
                               {"type", ggmlTypeName(type)},
                               {"dims", dims},
                               {"values", list},
                               {"tol", tol}});
        };
        addTensor("a.f32", torch::randn({3, 5, 4}), GgmlType::F32, 0.0);
        auto half = torch::randn({7, 16}).to(torch::kFloat16).to(torch::kFloat32);
        addTensor("b.f16", half, GgmlType::F16, 0.0);
        auto bf = torch::randn({33}).to(torch::kBFloat16).to(torch::kFloat32);
        addTensor("c.bf16", bf, GgmlType::BF16, 0.0);
        addTensor("d.q8", torch::randn({2, 64}), GgmlType::Q8_0, 0.03);

        const QString path = m_dir.filePath("written.gguf");
        writer.write(path.toStdString());
        const QString expect = m_dir.filePath("written.json");
        writeJson(expect, {{"keys", keys}, {"tensors", tensors}, {"alignment", 64}});
        RUN_PYTHON(check, "gguf_check.py", (QStringList{"check_written", path, expect}), 120000);
        qInfo("%s", check.out.trimmed().constData());
    }

    void exportedDemoModelMatchesOriginal()
    {
        const std::string source = emloc::test::demoGgufPath().toStdString();
        ModelFiles model = openGgufModel(source);
        const QString out = m_dir.filePath("smollm2-f32.gguf");
        QElapsedTimer timer;
        timer.start();
        writeGgufModel(model, out.toStdString(), "F32");
        qInfo("exported the demo model to F32 GGUF in %.1f s", timer.elapsed() / 1000.0);

        // Our own reader: same config, tokenizer files and weights (exactly: F32 holds dequantised values).
        ModelFiles again = openGgufModel(out.toStdString());
        QCOMPARE(again.config.hiddenSize, model.config.hiddenSize);
        QCOMPARE(again.config.numKeyValueHeads, model.config.numKeyValueHeads);
        QCOMPARE(again.config.ropeTheta, model.config.ropeTheta);
        QCOMPARE(again.config.rmsNormEps, model.config.rmsNormEps);
        QCOMPARE(again.config.tieWordEmbeddings, true);
        QVERIFY(again.tokenizerJson == model.tokenizerJson);
        QVERIFY(again.tokenizerConfig == model.tokenizerConfig);
        QCOMPARE(again.weights->names(), model.weights->names());
        for (const std::string &name :
             {std::string("model.layers.7.self_attn.q_proj.weight"),
              std::string("model.layers.7.self_attn.k_proj.weight"),
              std::string("model.layers.29.mlp.down_proj.weight"), std::string("model.embed_tokens.weight"),
              std::string("model.norm.weight")})
            QVERIFY2(torch::equal(again.weights->tensor(name), model.weights->tensor(name)), name.c_str());

        // llama.cpp's own reader: metadata and every tensor (in GGUF layout, so the q/k permutation too).
        RUN_PYTHON(check, "gguf_check.py",
                   (QStringList{"compare_export", QString::fromStdString(source), out}), 300000);
        qInfo("%s", check.out.trimmed().constData());

        // F16 export: matrices F16, norms F32.
        const QString half = m_dir.filePath("smollm2-f16.gguf");
        writeGgufModel(model, half.toStdString(), "F16");
        GgufFile file(half.toStdString());
        QCOMPARE(file.tensorInfo("blk.3.attn_q.weight").type, GgmlType::F16);
        QCOMPARE(file.tensorInfo("blk.3.attn_norm.weight").type, GgmlType::F32);
        QCOMPARE(file.integer("general.file_type"), int64_t(1));
        QVERIFY(!file.hasTensor("output.weight"));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 writeGgufModel(model, m_dir.filePath("x.gguf").toStdString(), "Q4_K"));
    }
};

QTEST_GUILESS_MAIN(TestGgufReference)
#include "test_gguf_reference.moc"
