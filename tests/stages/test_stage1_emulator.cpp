// Stage 1 on small random models in float64: the emulator against method.md's identities (full rank is
// exact, the recorded whitened error is ||(W - W')X^T|| on the calibration activations and the optimum of
// rank k, whitening beats plain SVD), the rank rule, loading and running the emulator, rules, the rank
// allocation, and failures that leave nothing behind.
#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/math/activation_svd.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/emulator_build.h"
#include "stage1_test_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace emloc::core;
using emloc::test::maxAbsDiff;
using emloc::test::randomWeights;
using emloc::test::smallConfig;

namespace {
constexpr int64_t kChunk = 4;

class CancelAfterFirstLayer : public Feedback
{
public:
    void metric(const MetricSample &sample) override
    {
        if (sample.stage == "build" && sample.step == 1)
            cancel();
    }
};

EmulatorOptions fp64Options(const QString &out, double ratio = 0.4)
{
    EmulatorOptions options;
    options.outputPath = out.toStdString();
    options.ratio = ratio;
    options.computeDtype = "fp64";
    options.chunkSize = kChunk;
    return options;
}

CausalLM loadFp64(const std::string &path)
{
    CausalLMOptions options;
    options.placement.dtype = torch::kFloat64;
    return CausalLM(openModel(path), options);
}

// Every entry of the folder's parent named like a leftover of a build of `out`.
QStringList leftovers(const QString &out)
{
    QFileInfo info(out);
    return QDir(info.absolutePath())
        .entryList({info.fileName() + "*"}, QDir::AllEntries | QDir::NoDotAndDotDot);
}

torch::Tensor composed(const SafetensorsFile &file, const std::string &module)
{
    return file.tensor(module + ".weight_u").matmul(file.tensor(module + ".weight_v"));
}
} // namespace

class TestStage1Emulator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        torch::set_num_threads(2);
        QVERIFY(m_dir.isValid());
        for (const char *variant : {"llama", "qwen2"}) {
            auto config = smallConfig(variant);
            emloc::test::writeModelFolder(QString::fromStdString(source(variant)), config,
                                          *randomWeights(config, 7));
        }
        // 12 sequences of 20-40 tokens: more tokens (about 350) than any projection has inputs (112), so
        // every Gram has full rank and no eigenvalue is clamped.
        m_calibration = emloc::test::randomCalibration(smallConfig("llama").vocabSize, 12, 20, 40, 3);
    }

    void fullRankReproducesTheOriginal_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::newRow("llama") << "llama";
        QTest::newRow("qwen2 (q/k/v bias, tied)") << "qwen2";
    }
    void fullRankReproducesTheOriginal()
    {
        QFETCH(QString, variant);
        const QString out = m_dir.filePath("full-" + variant);
        EmulatorOptions options = fp64Options(out);
        options.overrides = {parseModuleRule("*=rank:100000")}; // clamped to min(out, in): full rank
        Feedback feedback;
        buildEmulator(openModel(source(variant)), m_calibration, options, feedback);

        CausalLM original = loadFp64(source(variant));
        CausalLM emulator = loadFp64(out.toStdString());
        QCOMPARE(emulator.layer(0).linear("mlp.down_proj")->kind(), std::string("low_rank"));
        torch::NoGradGuard noGrad;
        const auto chunks = calibrationChunks(m_calibration, kChunk);
        for (const auto &chunk : chunks) {
            auto inputs = original.prepareInputs(chunk.ids.size(0), chunk.ids.size(1), chunk.attentionMask);
            auto hidden = original.embed(chunk.ids);
            for (int64_t i = 0; i < original.numLayers(); ++i) {
                auto expected = original.runLayer(i, hidden, inputs);
                auto got = emulator.runLayer(i, hidden, inputs);
                const double error = maxAbsDiff(got, expected) / expected.abs().max().item<double>();
                QVERIFY2(error < 1e-11, qPrintable(QString("layer %1: relative %2").arg(i).arg(error)));
                hidden = expected;
            }
        }
        const auto &ids = chunks.front();
        const double logits = maxAbsDiff(emulator.forward(ids.ids, ids.attentionMask),
                                         original.forward(ids.ids, ids.attentionMask));
        QVERIFY2(logits < 1e-9, qPrintable(QString::number(logits)));
    }

    void recordedErrorIsTheActivationErrorAndOptimal()
    {
        const QString out = m_dir.filePath("ratio04");
        Feedback feedback;
        const auto result =
            buildEmulator(openModel(source("llama")), m_calibration, fp64Options(out), feedback);
        const auto manifest = readEmulatorManifest(out.toStdString());
        QVERIFY(manifest == result.manifest);
        CausalLM original = loadFp64(source("llama"));
        const auto inputs = emloc::test::projectionInputs(original, m_calibration, kChunk);
        SafetensorsFile factors((out + "/model.safetensors").toStdString());
        int checked = 0;
        for (const auto &[name, record] : manifest["modules"].items()) {
            if (record["kind"] != "low_rank")
                continue;
            const torch::Tensor &x = inputs.at(name);
            const auto slot = name.substr(name.find('.', 13) + 1);
            const auto weight = std::dynamic_pointer_cast<DenseLinear>(
                                    original.layer(std::stoll(name.substr(13))).linear(slot))
                                    ->weight();
            const double recorded = record["whitened_error"].get<double>();
            // ||(W - Wu Wv) X^T||_F measured on the calibration activations.
            const double measured = (weight - composed(factors, name)).matmul(x.t()).norm().item<double>();
            QVERIFY2(
                std::abs(recorded - measured) <= 1e-8 * measured,
                qPrintable(
                    QString("%1: recorded %2, measured %3").arg(name.c_str()).arg(recorded).arg(measured)));
            // Eckart-Young: no rank-k matrix does better than the truncated SVD of W X^T.
            const int64_t rank = record["rank"].get<int64_t>();
            auto s = torch::linalg_svdvals(weight.matmul(x.t()));
            const double optimum = s.slice(0, rank).square().sum().sqrt().item<double>();
            QVERIFY2(std::abs(recorded - optimum) <= 1e-8 * optimum,
                     qPrintable(QString::fromStdString(name)));
            const double retained = record["retained_energy"].get<double>();
            QVERIFY(std::abs(retained - (1.0 - optimum * optimum / s.square().sum().item<double>())) < 1e-10);
            ++checked;
        }
        QCOMPARE(checked, 3 * 7 - 1);
        QCOMPARE(manifest["calibration"]["clamped_eigenvalues"].get<double>(), 0.0);
    }

    void ranksFollowTheRuleAndTheLastDownProjStaysDense()
    {
        const QString out = m_dir.filePath("ratio04");
        const auto manifest = readEmulatorManifest(out.toStdString());
        const auto config = smallConfig("llama");
        for (const auto &[name, record] : manifest["modules"].items()) {
            const int64_t m = record["out"], n = record["in"];
            if (name == "model.layers.2.mlp.down_proj") {
                QCOMPARE(record["kind"].get<std::string>(), std::string("dense"));
                continue;
            }
            QCOMPARE(record["kind"].get<std::string>(), std::string("low_rank"));
            QCOMPARE(record["rank"].get<int64_t>(), int64_t(std::floor(0.4 * m * n / double(m + n))));
            QCOMPARE(record["energy_curve"].size(), energyCurveRatios().size());
            for (size_t i = 1; i < record["energy_curve"].size(); ++i)
                QVERIFY(record["energy_curve"][i].get<double>() >=
                        record["energy_curve"][i - 1].get<double>());
        }
        SafetensorsFile file((out + "/model.safetensors").toStdString());
        QVERIFY(file.contains("model.layers.2.mlp.down_proj.weight"));
        QVERIFY(!file.contains("model.layers.2.mlp.up_proj.weight"));
        QCOMPARE(file.info("model.layers.1.mlp.up_proj.weight_u").shape, (std::vector<int64_t>{112, 13}));
        QCOMPARE(manifest["parameters"].get<int64_t>(), emulatorParameterCount(config, 0.4, true));
        QCOMPARE(manifest["source"]["fingerprint"].get<std::string>(), modelFingerprint(source("llama")));
        QCOMPARE(manifest["calibration"]["tokens"].get<int64_t>(), m_calibration.tokens);
        QCOMPARE(manifest["energy_curve"]["retained_energy"].size(), size_t(20));
        // The emulator is a model folder: its config is the original's, its forward composes the factors.
        ModelFiles files = openModel(out.toStdString());
        QCOMPARE(files.config.numLayers, config.numLayers);
        CausalLM emulator = loadFp64(out.toStdString());
        CausalLM composedModel = loadFp64(source("llama"));
        for (const auto &name : composedModel.linearNames())
            if (file.contains(name + ".weight_u"))
                composedModel.linearSlot(name) = std::make_shared<DenseLinear>(composed(file, name));
        torch::NoGradGuard noGrad;
        auto ids = torch::randint(3, config.vocabSize, {2, 9}, torch::kInt64);
        QVERIFY(maxAbsDiff(emulator.forward(ids), composedModel.forward(ids)) < 1e-10);
    }

    void whiteningBeatsPlainSvd()
    {
        const QString out = m_dir.filePath("plain");
        EmulatorOptions options = fp64Options(out);
        options.plainSvd = true;
        Feedback feedback;
        buildEmulator(openModel(source("llama")), m_calibration, options, feedback);
        const auto plain = readEmulatorManifest(out.toStdString());
        const auto whitened = readEmulatorManifest(m_dir.filePath("ratio04").toStdString());
        QCOMPARE(plain["method"].get<std::string>(), std::string("plain SVD (ablation)"));
        CausalLM original = loadFp64(source("llama"));
        const auto inputs = emloc::test::projectionInputs(original, m_calibration, kChunk);
        SafetensorsFile factors((out + "/model.safetensors").toStdString());
        double plainTotal = 0, whitenedTotal = 0;
        for (const auto &[name, record] : plain["modules"].items()) {
            if (record["kind"] != "low_rank")
                continue;
            const auto slot = name.substr(name.find('.', 13) + 1);
            const auto weight = std::dynamic_pointer_cast<DenseLinear>(
                                    original.layer(std::stoll(name.substr(13))).linear(slot))
                                    ->weight();
            const double measured =
                (weight - composed(factors, name)).matmul(inputs.at(name).t()).norm().item<double>();
            const double recorded = record["activation_error"].get<double>();
            QVERIFY2(std::abs(recorded - measured) <= 1e-8 * measured,
                     qPrintable(QString::fromStdString(name)));
            const double best = whitened["modules"][name]["whitened_error"].get<double>();
            QVERIFY2(best <= measured * (1 + 1e-12), qPrintable(QString::fromStdString(name)));
            plainTotal += measured * measured;
            whitenedTotal += best * best;
        }
        qInfo("calibration-activation error, sum of squares: whitened %.4g, plain SVD %.4g", whitenedTotal,
              plainTotal);
        QVERIFY(whitenedTotal < 0.95 * plainTotal);
    }

    void rulesOverrideTheRatio()
    {
        QCOMPARE(parseModuleRule("*.q_proj=dense").kind, ModuleRule::Kind::Dense);
        QCOMPARE(parseModuleRule("down_proj=0.6").ratio, 0.6);
        QCOMPARE(parseModuleRule("model.layers.0.*=rank:3").rank, int64_t(3));
        for (const char *bad :
             {"q_proj", "=0.5", "q_proj=", "q_proj=1.5", "q_proj=0", "q_proj=rank:0", "q_proj=x"})
            QVERIFY_THROWS_EXCEPTION(Error, parseModuleRule(bad));
        QVERIFY(parseModuleRule("q_proj=dense").matches("model.layers.4.self_attn.q_proj"));
        QVERIFY(parseModuleRule("self_attn.*=dense").matches("model.layers.4.self_attn.o_proj"));
        QVERIFY(!parseModuleRule("mlp.*=dense").matches("model.layers.4.self_attn.o_proj"));

        const QString out = m_dir.filePath("rules");
        EmulatorOptions options = fp64Options(out);
        options.overrides = {parseModuleRule("q_proj=dense"), parseModuleRule("model.layers.0.*=rank:3"),
                             parseModuleRule("model.layers.1.mlp.*=0.2")};
        options.keepLastDownProjDense = false;
        Feedback feedback;
        buildEmulator(openModel(source("llama")), m_calibration, options, feedback);
        const auto modules = readEmulatorManifest(out.toStdString())["modules"];
        QCOMPARE(modules["model.layers.0.self_attn.q_proj"]["rank"].get<int64_t>(), int64_t(3)); // later wins
        QCOMPARE(modules["model.layers.1.self_attn.q_proj"]["kind"].get<std::string>(), std::string("dense"));
        QCOMPARE(modules["model.layers.1.mlp.up_proj"]["rank"].get<int64_t>(),
                 int64_t(std::floor(0.2 * 112 * 48 / 160.0)));
        QCOMPARE(modules["model.layers.2.mlp.down_proj"]["kind"].get<std::string>(), std::string("low_rank"));
    }

    void rankAllocationKeepsTheBudget()
    {
        const QString out = m_dir.filePath("allocated");
        EmulatorOptions options = fp64Options(out);
        options.allocateRanks = true;
        Feedback feedback;
        buildEmulator(openModel(source("llama")), m_calibration, options, feedback);
        const auto allocated = readEmulatorManifest(out.toStdString());
        const auto uniform = readEmulatorManifest(m_dir.filePath("ratio04").toStdString());
        QCOMPARE(allocated["rank_allocation"].get<std::string>(), std::string("spectrum"));
        QVERIFY(allocated["parameters"].get<int64_t>() <= uniform["parameters"].get<int64_t>());
        double retainedAllocated = 0, retainedUniform = 0;
        bool differs = false;
        SafetensorsFile file((out + "/model.safetensors").toStdString());
        for (const auto &[name, record] : allocated["modules"].items()) {
            if (record["kind"] != "low_rank")
                continue;
            const int64_t rank = record["rank"];
            differs = differs || rank != uniform["modules"][name]["rank"].get<int64_t>();
            QCOMPARE(file.info(name + ".weight_u").shape[1], rank);
            QCOMPARE(file.info(name + ".weight_v").shape[0], rank);
            retainedAllocated +=
                record["total_energy"].get<double>() - record["discarded_energy"].get<double>();
            retainedUniform += uniform["modules"][name]["total_energy"].get<double>() -
                               uniform["modules"][name]["discarded_energy"].get<double>();
        }
        QVERIFY(differs);
        qInfo("retained whitened energy: allocated %.6g, uniform %.6g", retainedAllocated, retainedUniform);
        QVERIFY(retainedAllocated >= retainedUniform);
        // The allocated emulator loads and runs.
        CausalLM emulator = loadFp64(out.toStdString());
        torch::NoGradGuard noGrad;
        QVERIFY(torch::isfinite(emulator.forward(torch::randint(3, 96, {1, 6}, torch::kInt64)))
                    .all()
                    .item<bool>());
    }

    void badInputsLeaveNothingBehind()
    {
        const auto config = smallConfig("llama");
        Feedback feedback;
        const QString out = m_dir.filePath("bad");
        // A ratio outside (0, 1].
        for (double ratio : {0.0, 1.5, -0.2}) {
            EmulatorOptions options = fp64Options(out, ratio);
            QVERIFY_THROWS_EXCEPTION(
                Error, buildEmulator(openModel(source("llama")), m_calibration, options, feedback));
        }
        // A tensor missing from the weights, and one with the wrong shape: found when its layer is read.
        auto missing = randomWeights(config, 7);
        missing->tensors.erase("model.layers.1.mlp.up_proj.weight");
        emloc::test::writeModelFolder(m_dir.filePath("missing"), config, *missing);
        auto wrong = randomWeights(config, 7);
        wrong->tensors["model.layers.2.self_attn.k_proj.weight"] = torch::randn({20, 48});
        emloc::test::writeModelFolder(m_dir.filePath("wrong"), config, *wrong);
        for (const char *name : {"missing", "wrong"}) {
            try {
                buildEmulator(openModel(m_dir.filePath(name).toStdString()), m_calibration, fp64Options(out),
                              feedback);
                QFAIL("expected an error");
            } catch (const Error &error) {
                const std::string text = error.what();
                QVERIFY2(text.find(std::string(name) == "missing" ? "mlp.up_proj.weight" : "k_proj.weight") !=
                             std::string::npos,
                         error.what());
            }
            QVERIFY2(leftovers(out).isEmpty(), qPrintable(leftovers(out).join(", ")));
        }
        // No calibration tokens.
        QVERIFY_THROWS_EXCEPTION(
            Error, buildEmulator(openModel(source("llama")), CalibrationSet{}, fp64Options(out), feedback));
        // Cancelled after the first layer.
        CancelAfterFirstLayer cancelling;
        QVERIFY_THROWS_EXCEPTION(CancelledError, buildEmulator(openModel(source("llama")), m_calibration,
                                                               fp64Options(out), cancelling));
        QVERIFY2(leftovers(out).isEmpty(), qPrintable(leftovers(out).join(", ")));
        // An existing folder is refused, and with overwrite survives a failed build intact.
        QDir().mkpath(out);
        QFile marker(out + "/keep.txt");
        QVERIFY(marker.open(QIODevice::WriteOnly));
        marker.close();
        QVERIFY_THROWS_EXCEPTION(
            Error, buildEmulator(openModel(source("llama")), m_calibration, fp64Options(out), feedback));
        EmulatorOptions overwrite = fp64Options(out);
        overwrite.overwrite = true;
        QVERIFY_THROWS_EXCEPTION(Error, buildEmulator(openModel(m_dir.filePath("wrong").toStdString()),
                                                      m_calibration, overwrite, feedback));
        QVERIFY(QFile::exists(out + "/keep.txt"));
        QCOMPARE(leftovers(out), QStringList{"bad"});
        buildEmulator(openModel(source("llama")), m_calibration, overwrite, feedback);
        QVERIFY(!QFile::exists(out + "/keep.txt"));
        QVERIFY(QFile::exists(out + "/emulator.json"));
        QCOMPARE(leftovers(out), QStringList{"bad"});
    }

private:
    std::string source(const char *variant) const
    {
        return m_dir.filePath(QString("source-") + variant).toStdString();
    }
    std::string source(const QString &variant) const { return source(variant.toUtf8().constData()); }

    QTemporaryDir m_dir;
    CalibrationSet m_calibration;
};

QTEST_GUILESS_MAIN(TestStage1Emulator)
#include "test_stage1_emulator.moc"
