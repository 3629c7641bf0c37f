// config.json parsing against transformers: the configs its save_pretrained writes (both the
// transformers 5 `rope_parameters` spelling and the older `rope_theta`/`rope_scaling` one) give the
// values transformers itself reads, parameter counts match the instantiated model, and the configs
// we write are read back by transformers unchanged. Malformed configs name the file and the field.
#include "emloc/api/dtype_names.h"
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/dtype.h"
#include "emloc/io/model_config.h"

#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace emloc::core;
using nlohmann::json;

namespace {
const QStringList kConfigNames = {"llama3", "llama_legacy",  "mistral", "mistral_nowindow",
                                  "qwen2",  "qwen2_sliding", "qwen3"};

template <typename Body> QString errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return QString::fromStdString(e.what());
    }
    return QString();
}

// The config as the fixture script describes it (see expected_of in io_make_fixtures.py).
json describe(const ModelConfig &config)
{
    return {{"model_type", config.modelType},
            {"vocab_size", config.vocabSize},
            {"hidden_size", config.hiddenSize},
            {"intermediate_size", config.intermediateSize},
            {"num_layers", config.numLayers},
            {"num_heads", config.numHeads},
            {"num_kv_heads", config.numKeyValueHeads},
            {"head_dim", config.headDim},
            {"max_position_embeddings", config.maxPositionEmbeddings},
            {"rms_norm_eps", config.rmsNormEps},
            {"rope_theta", config.ropeTheta},
            {"rope_type", config.ropeScaling.type},
            {"rope_factor", config.ropeScaling.factor},
            {"low_freq_factor", config.ropeScaling.lowFreqFactor},
            {"high_freq_factor", config.ropeScaling.highFreqFactor},
            {"original_max_position_embeddings", config.ropeScaling.originalMaxPositionEmbeddings},
            {"tie_word_embeddings", config.tieWordEmbeddings},
            {"sliding_window", config.slidingWindow},
            {"bos_token_id", config.bosTokenId},
            {"eos_token_ids", config.eosTokenIds},
            {"dtype", config.torchDtype},
            {"parameters", config.totalParameters()}};
}

// Field-by-field so a failure names the field; numbers compare as doubles (exact for these values).
void compareDescriptions(const json &got, const json &expected, const QString &what)
{
    for (const auto &[key, want] : expected.items()) {
        QVERIFY2(got.contains(key), qPrintable(what + ": missing " + QString::fromStdString(key)));
        const json &value = got[key];
        const bool same =
            want.is_number() && value.is_number() ? want.get<double>() == value.get<double>() : want == value;
        QVERIFY2(same, qPrintable(what + ": " + QString::fromStdString(key) + " is " +
                                  QString::fromStdString(value.dump()) + ", transformers says " +
                                  QString::fromStdString(want.dump())));
    }
}

json validConfig()
{
    return {{"model_type", "llama"},    {"vocab_size", 100},      {"hidden_size", 64},
            {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
            {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-5},   {"eos_token_id", 2}};
}
} // namespace

class TestModelConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"configs", m_dir.path()});
        QVERIFY2(result.exitCode == 0, result.err.constData());
    }

    void parsesTransformersConfigs_data()
    {
        QTest::addColumn<QString>("name");
        for (const QString &name : kConfigNames)
            QTest::newRow(qPrintable(name)) << name;
    }

    void parsesTransformersConfigs()
    {
        QFETCH(QString, name);
        const QString folder = m_dir.filePath(name);
        const ModelConfig config = loadModelConfig(QDir(folder).filePath("config.json").toStdString());
        const json expected = json::parse(readTextFile(QDir(folder).filePath("expected.json").toStdString()));
        compareDescriptions(describe(config), expected, name);
        QCOMPARE(config.attentionBias, name.startsWith("qwen2"));
        QCOMPARE(config.qkNorm, name == "qwen3");
        QVERIFY(config.raw.is_object() && config.raw.contains("model_type"));
    }

    void specificValues()
    {
        // Spot checks independent of the fixture's own description.
        const ModelConfig llama = loadModelConfig(m_dir.filePath("llama3/config.json").toStdString());
        QCOMPARE(llama.ropeScaling.type, std::string("llama3"));
        QCOMPARE(llama.ropeScaling.factor, 32.0);
        QCOMPARE(llama.ropeTheta, 500000.0);
        QCOMPARE(llama.eosTokenIds, (std::vector<int64_t>{6, 7}));
        QCOMPARE(llama.torchDtype, std::string("bfloat16"));
        QVERIFY(llama.tieWordEmbeddings);
        const ModelConfig qwen3 = loadModelConfig(m_dir.filePath("qwen3/config.json").toStdString());
        QCOMPARE(qwen3.headDim, int64_t(24)); // not hidden / heads = 16
        QCOMPARE(qwen3.bosTokenId, int64_t(-1));
        const ModelConfig mistral = loadModelConfig(m_dir.filePath("mistral/config.json").toStdString());
        QCOMPARE(mistral.slidingWindow, int64_t(4096));
        QCOMPARE(mistral.ropeTheta, 1e6);
    }

    void transformersReadsWhatWeWrite()
    {
        // Fresh JSON (no raw, as for a GGUF model) and JSON merged into the original must both be read by
        // transformers as the same model.
        QTemporaryDir out;
        QStringList folders;
        std::map<std::string, json> ours;
        for (const QString &name : kConfigNames) {
            ModelConfig config = loadModelConfig(m_dir.filePath(name + "/config.json").toStdString());
            for (const bool fresh : {false, true}) {
                if (fresh)
                    config.raw = json();
                const QString folder = out.filePath(name + (fresh ? "_fresh" : "_merged"));
                QDir().mkpath(folder);
                writeFileAtomically(QDir(folder).filePath("config.json").toStdString(),
                                    modelConfigToJson(config).dump(2));
                folders << folder;
                ours[folder.toStdString()] = describe(config);
                // Our own parser must read our output the same way.
                compareDescriptions(describe(parseModelConfig(modelConfigToJson(config), "ours")),
                                    describe(config), name + " re-parsed");
            }
        }
        const auto result =
            emloc::test::runPythonScript("io_make_fixtures.py", QStringList{"describe"} + folders);
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const json theirs = json::parse(result.out.toStdString());
        for (const auto &[folder, description] : ours)
            compareDescriptions(description, theirs.at(folder), QString::fromStdString(folder));
    }

    void malformedConfigs_data()
    {
        QTest::addColumn<QString>("patch"); // merged into a valid config (JSON merge patch)
        QTest::addColumn<QStringList>("phrases");
        QTest::newRow("missing hidden_size")
            << R"({"hidden_size": null})" << QStringList{"'hidden_size'", "missing"};
        QTest::newRow("wrong type") << R"({"hidden_size": "64"})" << QStringList{"'hidden_size'", "integer"};
        QTest::newRow("gpt2") << R"({"model_type": "gpt2"})"
                              << QStringList{"gpt2", "llama, mistral, qwen2, qwen3"};
        QTest::newRow("no model_type") << R"({"model_type": null})" << QStringList{"model_type", "llama"};
        QTest::newRow("kv heads") << R"({"num_key_value_heads": 3})" << QStringList{"num_key_value_heads"};
        QTest::newRow("negative layers")
            << R"({"num_hidden_layers": -2})" << QStringList{"num_hidden_layers"};
        QTest::newRow("yarn") << R"({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}})"
                              << QStringList{"yarn", "llama3, linear"};
        QTest::newRow("rope factor type")
            << R"({"rope_scaling": {"type": "linear", "factor": "x"}})" << QStringList{"rope_scaling.factor"};
        QTest::newRow("eos") << R"({"eos_token_id": "</s>"})" << QStringList{"eos_token_id"};
        QTest::newRow("activation") << R"({"hidden_act": "gelu"})" << QStringList{"hidden_act", "gelu"};
        QTest::newRow("o_proj bias") << R"({"attention_bias": true})" << QStringList{"attention_bias"};
        QTest::newRow("head_dim") << R"({"hidden_size": 66})" << QStringList{"hidden_size", "head_dim"};
        // Beyond 64 bits (found by fuzz_model_config: casting it was undefined behaviour).
        QTest::newRow("huge size") << R"({"intermediate_size": 1222222222222222222222222222222222222222})"
                                   << QStringList{"'intermediate_size'", "below 2^63"};
        QTest::newRow("above int64") << R"({"vocab_size": 18446744073709551615})"
                                     << QStringList{"'vocab_size'", "below 2^63"};
    }

    void malformedConfigs()
    {
        QFETCH(QString, patch);
        QFETCH(QStringList, phrases);
        json config = validConfig();
        config.merge_patch(json::parse(patch.toStdString()));
        const QString message = errorOf([&] { parseModelConfig(config, "/models/x/config.json"); });
        QVERIFY2(message.contains("/models/x/config.json"), qPrintable(message));
        for (const QString &phrase : phrases)
            QVERIFY2(message.contains(phrase), qPrintable(message));
    }

    void acceptsNullsAndDefaults()
    {
        json config = validConfig();
        config["sliding_window"] = nullptr;
        config["bos_token_id"] = nullptr;
        config["rope_scaling"] = nullptr;
        config["model_type"] = "mistral";
        const ModelConfig parsed = parseModelConfig(config, "config.json");
        QCOMPARE(parsed.slidingWindow, int64_t(0));
        QCOMPARE(parsed.bosTokenId, int64_t(-1));
        QCOMPARE(parsed.headDim, int64_t(16));
        QCOMPARE(parsed.ropeTheta, 10000.0);
        QVERIFY(parsed.ropeScaling.type.empty());
        QCOMPARE(parsed.eosTokenIds, (std::vector<int64_t>{2}));
        QCOMPARE(supportedModelTypes(), std::string("llama, mistral, qwen2, qwen3"));
    }

    // Every reader of a float type (flags, run configurations, config.json, conversions, exports) goes
    // through one table of names, so each spelling means the same everywhere.
    void floatTypeNamesAreOneTable()
    {
        const std::vector<std::pair<std::string, FloatType>> spellings = {
            {"fp32", FloatType::Float32},
            {"float32", FloatType::Float32},
            {"torch.float32", FloatType::Float32},
            {"F32", FloatType::Float32},
            {"float", FloatType::Float32},
            {"bf16", FloatType::BFloat16},
            {"bfloat16", FloatType::BFloat16},
            {"BF16", FloatType::BFloat16},
            {"torch.bfloat16", FloatType::BFloat16},
            {"fp16", FloatType::Float16},
            {"float16", FloatType::Float16},
            {"F16", FloatType::Float16},
            {"half", FloatType::Float16},
            {"fp64", FloatType::Float64},
            {"float64", FloatType::Float64},
            {"F64", FloatType::Float64},
            {"double", FloatType::Float64}};
        for (const auto &[name, type] : spellings) {
            QVERIFY2(floatTypeFromName(name) == type, name.c_str());
            QCOMPARE(floatTypeFromName(hfTypeName(type)), std::optional<FloatType>(type));
            QCOMPARE(floatTypeFromName(shortTypeName(type)), std::optional<FloatType>(type));
        }
        for (const std::string name : {"", "int8", "Float32", "q4_0", "bfloat", "torch."})
            QVERIFY2(!floatTypeFromName(name), name.c_str());
        QCOMPARE(typeBytes(FloatType::Float32), 4);
        QCOMPARE(typeBytes(FloatType::BFloat16), 2);
        QCOMPARE(typeBytes(FloatType::Float64), 8);

        QCOMPARE(floatDtypeFromName("half"), std::optional<torch::ScalarType>(torch::kFloat16));
        QCOMPARE(hfDtypeName(torch::kFloat64), std::string("float64"));
        QCOMPARE(shortDtypeName(torch::kBFloat16), std::string("bf16"));

        // config.json's torch_dtype, as transformers writes it in its several eras.
        for (const auto &[stored, expected] :
             std::vector<std::pair<std::string, std::string>>{{"torch.float16", "float16"},
                                                              {"half", "float16"},
                                                              {"bf16", "bfloat16"},
                                                              {"float", "float32"},
                                                              {"int8", "int8"}}) {
            json config = validConfig();
            config.erase("dtype");
            config["torch_dtype"] = stored;
            QCOMPARE(parseModelConfig(config, "config.json").torchDtype, expected);
        }
    }

    void fileErrorsNameTheFile()
    {
        QTemporaryDir dir;
        const std::string bad = dir.filePath("config.json").toStdString();
        writeFileAtomically(bad, "{\"model_type\": \"llama\",");
        QString message = errorOf([&] { loadModelConfig(bad); });
        QVERIFY2(message.contains(QString::fromStdString(bad)) && message.contains("JSON"),
                 qPrintable(message));
        const std::string missing = dir.filePath("none/config.json").toStdString();
        message = errorOf([&] { loadModelConfig(missing); });
        QVERIFY2(message.contains(QString::fromStdString(missing)), qPrintable(message));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
