// `emloc info`, `emloc tokenize` and `emloc generate` end to end, on a tiny folder written here and on
// the demo GGUF.
#include "emloc/io/gguf_file.h"
#include "emloc/io/model_config.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/math/activation_svd.h"
#include "emloc/model/causal_lm.h"
#include "emloc/text/tokenizer.h"
#include "model_test_util.h"
#include "test_support.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

using namespace emloc::core;
using emloc::test::runCli;

namespace {
nlohmann::json parseOut(const emloc::test::ProcessResult &result)
{
    return nlohmann::json::parse(result.out.toStdString());
}

// A tiny random model as a Hugging Face folder (config.json + model.safetensors), no tokenizer.
std::shared_ptr<emloc::test::MemoryWeights> writeTinyModel(const QString &folder, const ModelConfig &config)
{
    auto weights = emloc::test::randomWeights(config, 3);
    std::vector<std::pair<std::string, torch::Tensor>> tensors(weights->tensors.begin(),
                                                               weights->tensors.end());
    writeSafetensors((folder + "/model.safetensors").toStdString(), tensors);
    QFile file(folder + "/config.json");
    if (file.open(QIODevice::WriteOnly))
        file.write(QByteArray::fromStdString(modelConfigToJson(config).dump(2)));
    return weights;
}

torch::Tensor forwardInProcess(const ModelConfig &config, std::shared_ptr<WeightSource> weights,
                               const std::vector<int64_t> &ids)
{
    CausalLM model(config, std::move(weights));
    torch::NoGradGuard noGrad;
    return model.forward(torch::tensor(ids, torch::kLong).unsqueeze(0));
}
} // namespace

class TestModelCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void infoCountsParametersByKind()
    {
        QTemporaryDir dir;
        auto config = emloc::test::smallConfig("qwen3");
        auto weights = emloc::test::randomWeights(config, 3);
        std::vector<std::pair<std::string, torch::Tensor>> tensors(weights->tensors.begin(),
                                                                   weights->tensors.end());
        writeSafetensors(dir.filePath("model.safetensors").toStdString(), tensors);
        QFile file(dir.filePath("config.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromStdString(modelConfigToJson(config).dump(2)));
        file.close();

        auto result = runCli({"--json", "info", dir.path()});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto info = parseOut(result);
        QCOMPARE(info["format"].get<std::string>(), std::string("hf"));
        QCOMPARE(info["architecture"].get<std::string>(), std::string("qwen3"));
        QCOMPARE(info["layers"].get<int64_t>(), int64_t(3));
        QCOMPARE(info["key_value_heads"].get<int64_t>(), int64_t(2));
        const auto &p = info["parameters"];
        // hidden 48, heads 4 x 12, kv 2 x 12, intermediate 112, vocab 96, 3 layers.
        QCOMPARE(p["embeddings"].get<int64_t>(), int64_t(96 * 48));
        QCOMPARE(p["lm_head"].get<int64_t>(), int64_t(96 * 48));
        QCOMPARE(p["attention"].get<int64_t>(), int64_t(3 * (48 * 48 + 2 * 24 * 48 + 48 * 48)));
        QCOMPARE(p["mlp"].get<int64_t>(), int64_t(3 * 3 * 48 * 112));
        QCOMPARE(p["norms"].get<int64_t>(), int64_t(3 * (2 * 48 + 2 * 12) + 48));
        const int64_t total = p["total"].get<int64_t>();
        QCOMPARE(total, p["embeddings"].get<int64_t>() + p["lm_head"].get<int64_t>() +
                            p["attention"].get<int64_t>() + p["mlp"].get<int64_t>() +
                            p["norms"].get<int64_t>());
        QCOMPARE(info["weight_bytes"]["fp32"].get<int64_t>(), 4 * total);
        QCOMPARE(info["weight_bytes"]["bf16"].get<int64_t>(), 2 * total);

        auto text = runCli({"info", dir.path()});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("qwen3"));
        QVERIFY(text.out.contains("lm_head"));

        // No tokenizer in this folder: every command that reads text says so the same way (one place in
        // core), naming the folder and what to add, with exit code 1 and nothing written.
        const QString data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        const QString out = dir.filePath("never-written");
        for (const QStringList &command :
             {QStringList{"tokenize", dir.path(), "--text", "hi"},
              QStringList{"train", dir.path(), "--data", data, "--out", out, "--steps", "1"},
              QStringList{"data", "inspect", data, "--model", dir.path()},
              QStringList{"generate", dir.path(), "--prompt", "hi"}}) {
            auto noTokenizer = runCli(command);
            QCOMPARE(noTokenizer.exitCode, 1);
            QVERIFY2(noTokenizer.err.contains((dir.path() + " has no tokenizer").toUtf8()) &&
                         noTokenizer.err.contains("add the model's tokenizer.json to the folder"),
                     qPrintable(command.join(' ') + ": " + noTokenizer.err));
        }
        QVERIFY(!QFileInfo::exists(out));
        auto missing = runCli({"info", dir.filePath("nothing-here")});
        QCOMPARE(missing.exitCode, 1);
    }

    // A quantised GGUF is described by the types of its tensors, the dominant one first.
    void infoNamesTheStoredQuantisation()
    {
        QTemporaryDir dir;
        auto config = emloc::test::smallConfig("llama");
        config.hiddenSize = 64; // Q8_0 rows are whole 32-value blocks
        config.intermediateSize = 128;
        config.headDim = 16;
        writeTinyModel(dir.path(), config);
        const QString gguf = dir.filePath("model.gguf");
        ModelFiles files = openModel(dir.path().toStdString());
        nlohmann::json vocab; // a GGUF carries a vocabulary; any will do here
        for (int64_t id = 0; id < config.vocabSize; ++id)
            vocab["t" + std::to_string(id)] = id;
        files.tokenizerJson = {
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
        writeGgufModel(files, gguf.toStdString(), "Q8_0"); // the norms stay F32

        auto result = runCli({"--json", "info", gguf});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto info = parseOut(result);
        QCOMPARE(info["stored_dtype"].get<std::string>(), std::string("Q8_0"));
        const auto &types = info["stored_types"];
        QCOMPARE(types.size(), size_t(2));
        QCOMPARE(types[0]["type"].get<std::string>(), std::string("Q8_0"));
        QCOMPARE(types[1]["type"].get<std::string>(), std::string("F32")); // the norms
        QCOMPARE(types[1]["tensors"].get<int64_t>(), 2 * config.numLayers + 1);
        QCOMPARE(types[0]["parameters"].get<int64_t>() + types[1]["parameters"].get<int64_t>(),
                 info["parameters"]["total"].get<int64_t>());

        auto text = runCli({"info", gguf});
        QVERIFY2(text.exitCode == 0, text.err.constData());
        const QString expected = QString("(stored as mixed: Q8_0 (%1 tensors), F32 (%2))")
                                     .arg(types[0]["tensors"].get<int64_t>())
                                     .arg(types[1]["tensors"].get<int64_t>());
        QVERIFY2(text.out.contains(expected.toUtf8()), text.out.constData());
    }

    void demoModelInfoTokenizeGenerate()
    {
        const QString gguf = emloc::test::demoGgufPath();
        auto result = runCli({"--json", "info", gguf});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto info = parseOut(result);
        QCOMPARE(info["format"].get<std::string>(), std::string("gguf"));
        QCOMPARE(info["layers"].get<int64_t>(), int64_t(30));
        QCOMPARE(info["hidden_size"].get<int64_t>(), int64_t(576));
        QCOMPARE(info["attention_heads"].get<int64_t>(), int64_t(9));
        QCOMPARE(info["key_value_heads"].get<int64_t>(), int64_t(3));
        QCOMPARE(info["vocab_size"].get<int64_t>(), int64_t(49152));
        QVERIFY(info["tied_embeddings"].get<bool>());
        // SmolLM2-135M: 134.5 M parameters (tied embeddings counted once).
        QCOMPARE(info["parameters"]["total"].get<int64_t>(), int64_t(134515008));
        // Its matrices are Q4_1 (embeddings Q8_0, norms F32), whatever general.file_type says.
        QCOMPARE(info["stored_dtype"].get<std::string>(), std::string("Q4_1"));
        auto infoText = runCli({"info", gguf});
        QVERIFY2(infoText.out.contains("(stored as mixed: Q4_1 ("), infoText.out.constData());

        auto tokens = runCli({"tokenize", gguf, "--text", "The capital of France is"});
        QVERIFY2(tokens.exitCode == 0, tokens.err.constData());
        auto files = openModel(gguf.toStdString());
        auto tokenizer = Tokenizer::fromJson(files.tokenizerJson, "demo");
        QCOMPARE(parseOut(tokens).get<std::vector<int64_t>>(),
                 tokenizer->encode("The capital of France is", false));

        auto generated = runCli({"generate", gguf, "--prompt", "What is the capital of France?", "--chat",
                                 "--max-new-tokens", "20"});
        QVERIFY2(generated.exitCode == 0, generated.err.constData());
        QVERIFY2(generated.out.contains("Paris"), generated.out.constData());
        QVERIFY2(generated.err.contains("tok/s"), generated.err.constData());

        auto sampled = runCli({"--json", "generate", gguf, "--prompt", "Once upon a time", "--max-new-tokens",
                               "8", "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9",
                               "--repetition-penalty", "1.1", "--seed", "5"});
        QVERIFY2(sampled.exitCode == 0, sampled.err.constData());
        auto first = parseOut(sampled);
        QCOMPARE(int(first["new_tokens"].size()), 8);
        auto again = parseOut(runCli({"--json", "generate", gguf, "--prompt", "Once upon a time",
                                      "--max-new-tokens", "8", "--temperature", "0.8", "--top-k", "40",
                                      "--top-p", "0.9", "--repetition-penalty", "1.1", "--seed", "5"}));
        QCOMPARE(again["new_tokens"], first["new_tokens"]);

        auto badDtype = runCli({"generate", gguf, "--prompt", "x", "--dtype", "bf16"});
        QCOMPARE(badDtype.exitCode, 1);
        QVERIFY2(badDtype.err.contains("CUDA"), badDtype.err.constData());
    }

    // `emloc bench logits` writes what the model computes; with --adapter, the model with W + s B A.
    void benchLogitsAreTheModelsForward()
    {
        QTemporaryDir dir;
        const auto config = emloc::test::smallConfig("llama");
        auto weights = writeTinyModel(dir.path(), config);
        const std::vector<int64_t> ids{1, 5, 7, 42, 3};
        const QString out = dir.filePath("logits.safetensors");
        auto result = runCli({"-q", "bench", "logits", dir.path(), "--ids", "1,5,7,42,3", "--out", out});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const auto ours = SafetensorsFile(out.toStdString()).tensor("logits");
        const auto expected = forwardInProcess(config, weights, ids);
        QCOMPARE(ours.sizes().vec(), expected.sizes().vec());
        QVERIFY(emloc::test::maxAbsDiff(ours, expected) < 1e-5); // the same code path, up to thread order

        // A PEFT adapter on layer 1's q_proj and down_proj, merged by hand for the reference.
        PeftAdapter adapter;
        adapter.config.r = 2;
        adapter.config.loraAlpha = 6; // scale 3
        adapter.config.targetModules = {"q_proj", "down_proj"};
        auto merged = std::make_shared<emloc::test::MemoryWeights>(*weights);
        torch::manual_seed(11);
        for (const std::string module : {"model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj"}) {
            const auto shape = weights->shape(module + ".weight");
            const auto a = torch::randn({2, shape[1]}) * 0.3;
            const auto b = torch::randn({shape[0], 2}) * 0.3;
            adapter.modules.push_back({module, a, b});
            merged->tensors[module + ".weight"] = weights->tensor(module + ".weight") + 3.0 * b.matmul(a);
        }
        writePeftAdapter(adapter, dir.filePath("adapter").toStdString());
        result = runCli({"-q", "bench", "logits", dir.path(), "--ids", "1,5,7,42,3", "--adapter",
                         dir.filePath("adapter"), "--out", out});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const auto adapted = SafetensorsFile(out.toStdString()).tensor("logits");
        QVERIFY(emloc::test::maxAbsDiff(adapted, forwardInProcess(config, merged, ids)) < 1e-4);
        QVERIFY(emloc::test::maxAbsDiff(adapted, expected) > 1e-2); // the adapter changed something
    }

    // bench matmul / forward / svd report their measurements with the numbers they are made of.
    void benchRatesAreConsistent()
    {
        QTemporaryDir dir;
        const auto config = emloc::test::smallConfig("llama");
        writeTinyModel(dir.path(), config);
        auto result = runCli({"--json", "bench", "matmul", "--size", "64", "--seconds", "0.05"});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto matmul = parseOut(result);
        QVERIFY(matmul["repeats"].get<int64_t>() >= 1);
        QVERIFY(matmul["flops_per_second"].get<double>() > 0);
        QCOMPARE(matmul["flops_per_second"].get<double>(),
                 2.0 * 64 * 64 * 64 * matmul["repeats"].get<double>() / matmul["seconds"].get<double>());

        result = runCli({"--json", "bench", "forward", dir.path(), "--seq-len", "16", "--repeat", "2"});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto forward = parseOut(result);
        const double headDim = config.headDim > 0 ? config.headDim : config.hiddenSize / config.numHeads;
        const double expectedFlops = 2.0 * forward["linear_parameters"].get<double>() * 16 +
                                     4.0 * 16 * 16 * config.numHeads * headDim * config.numLayers +
                                     2.0 * 16 * config.vocabSize * config.hiddenSize;
        QCOMPARE(forward["flops_per_forward"].get<double>(), expectedFlops);
        QCOMPARE(forward["tokens_per_second"].get<double>(),
                 16 / forward["seconds_per_forward"].get<double>());
        QVERIFY(forward["fraction_of_matmul"].get<double>() > 0);
        QVERIFY(forward["peak_memory_bytes"].get<int64_t>() > 0);

        result = runCli(
            {"--json", "bench", "svd", dir.path(), "--layer", "1", "--ratio", "0.5", "--samples", "64"});
        QVERIFY2(result.exitCode == 0, result.err.constData());
        auto svd = parseOut(result);
        QCOMPARE(svd["backends"].size(), size_t(1)); // LibTorch only on the CPU
        const auto &libtorch = svd["backends"][0];
        QCOMPARE(libtorch["backend"].get<std::string>(), std::string("libtorch"));
        QCOMPARE(libtorch["projections"].size(), size_t(7));
        for (const auto &[name, projection] : libtorch["projections"].items()) {
            const int64_t out = projection["shape"][0], in = projection["shape"][1];
            QCOMPARE(projection["rank"].get<int64_t>(), rankForRatio(0.5, out, in));
        }
    }
};

QTEST_GUILESS_MAIN(TestModelCli)
#include "test_model_cli.moc"
