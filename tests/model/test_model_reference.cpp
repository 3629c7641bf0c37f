// The decoder against transformers: small random llama / llama3-rope / linear-rope / mistral (sliding
// window) / qwen2 (bias) / qwen3 (q/k norm) models, tied and untied, written with save_pretrained and
// read back through openModel. Logits of a padded batch and greedy generations must agree.
#include "emloc/io/model_files.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/util/torch_runtime.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace emloc::core;

namespace {
// Both sides compute in float32 with different operation orders; logits are O(1).
constexpr double kLogitTolerance = 1e-4;
} // namespace

class TestModelReference : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
        QVERIFY(m_dir.isValid());
        auto result = emloc::test::runPythonScript("model_make_fixtures.py", {m_dir.path()}, 900000);
        QVERIFY2(result.exitCode == 0, result.err.constData());
        m_variants = nlohmann::json::parse(result.out.trimmed().split('\n').last().toStdString());
        QCOMPARE(int(m_variants.size()), 6);
    }

    void logitsMatchTransformers_data()
    {
        QTest::addColumn<QString>("variant");
        for (const char *name : {"llama_untied", "llama3_tied", "llama_linear_rope", "mistral_window",
                                 "qwen2_bias", "qwen3_qknorm"})
            QTest::newRow(name) << QString(name);
    }
    void logitsMatchTransformers()
    {
        QFETCH(QString, variant);
        torch::NoGradGuard noGrad;
        const std::string folder = m_dir.filePath(variant).toStdString();
        ModelFiles files;
        std::unique_ptr<CausalLM> loaded;
        QVERIFY(load(folder, files, loaded));
        CausalLM &model = *loaded;
        QCOMPARE(model.tiedEmbeddings(), variant.endsWith("_tied") || variant.startsWith("qwen2"));

        SafetensorsFile reference(folder + "/reference.safetensors");
        auto ids = reference.tensor("input_ids");
        auto mask = reference.tensor("attention_mask");
        auto expected = reference.tensor("logits").to(torch::kFloat64);

        auto inputs = model.prepareInputs(ids.size(0), ids.size(1), mask);
        auto real = mask.to(torch::kBool);
        QVERIFY(torch::equal(inputs.positions.masked_select(real),
                             reference.tensor("positions").masked_select(real)));

        auto logits = model.forward(ids, mask).to(torch::kFloat64);
        auto diff = (logits - expected).abs().amax(-1).masked_select(real);
        const double maxDiff = diff.max().item<double>();
        const double scale = expected.abs().max().item<double>();
        qInfo("%s: max |logit diff| %.3g (logits up to %.3g) over %lld tokens", qPrintable(variant), maxDiff,
              scale, (long long)diff.numel());
        QVERIFY2(maxDiff < kLogitTolerance, qPrintable(QString::number(maxDiff)));
    }

    void greedyMatchesTransformers_data() { logitsMatchTransformers_data(); }
    void greedyMatchesTransformers()
    {
        QFETCH(QString, variant);
        const std::string folder = m_dir.filePath(variant).toStdString();
        ModelFiles files;
        std::unique_ptr<CausalLM> loaded;
        QVERIFY(load(folder, files, loaded));
        CausalLM &model = *loaded;
        std::ifstream in(folder + "/greedy.json");
        const auto greedy = nlohmann::json::parse(in);
        GenerationOptions options;
        options.maxNewTokens = greedy["max_new_tokens"].get<int64_t>();
        options.stopTokenIds = stopTokensFor(files);
        QVERIFY(std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(),
                          greedy["eos_token_id"].get<int64_t>()) != options.stopTokenIds.end());
        for (const auto &generation : greedy["generations"]) {
            const auto prompt = generation["prompt"].get<std::vector<int64_t>>();
            const auto expected = generation["new_tokens"].get<std::vector<int64_t>>();
            const auto result = generate(model, prompt, options);
            QCOMPARE(QString::fromStdString(nlohmann::json(result.tokens).dump()),
                     QString::fromStdString(nlohmann::json(expected).dump()));
        }
    }

private:
    // Reports a loader error as a test failure (an exception escaping a Qt test slot aborts the suite).
    static bool load(const std::string &folder, ModelFiles &files, std::unique_ptr<CausalLM> &model)
    {
        try {
            files = openModel(folder);
            model = std::make_unique<CausalLM>(files);
            return true;
        } catch (const std::exception &error) {
            qWarning("%s", error.what());
            return false;
        }
    }

    QTemporaryDir m_dir;
    nlohmann::json m_variants;
};

QTEST_GUILESS_MAIN(TestModelReference)
#include "test_model_reference.moc"
