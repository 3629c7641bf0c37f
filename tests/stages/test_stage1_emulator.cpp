// Stage 1 on small random models in float64: the emulator against method.md's identities (full rank is
// exact, the recorded whitened error is ||(W - W')X^T|| on the calibration activations and the optimum of
// rank k, whitening beats plain SVD), the rank rule, loading and running the emulator, rules, the rank
// allocation, and failures that leave nothing behind.
#include "stage1_test_util.h"

#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/math/activation_svd.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/plan/memory_plan.h"
#include "emloc/stages/emulator_build.h"

#include "unit_test.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

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

// What the suite's test cases share: the source models and the calibration set (SUITE_SETUP makes them).
struct State
{
    emloc::test::TempDir dir;
    CalibrationSet calibration;
};

State &state()
{
    static State shared;
    return shared;
}

std::string source(const std::string &variant)
{
    return state().dir.filePath("source-" + variant);
}

EmulatorOptions fp64Options(const std::string &out, double ratio = 0.4)
{
    EmulatorOptions options;
    options.outputPath = out;
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

// Every entry of the folder's parent named like a leftover of a build of `out`, sorted by name.
std::vector<std::string> leftovers(const std::string &out)
{
    const std::filesystem::path path = std::filesystem::absolute(out);
    const std::string prefix = path.filename().string();
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(path.parent_path())) {
        const std::string name = entry.path().filename().string();
        if (emloc::test::startsWith(name, prefix))
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

torch::Tensor composed(const SafetensorsFile &file, const std::string &module)
{
    return file.tensor(module + ".weight_u").matmul(file.tensor(module + ".weight_v"));
}
} // namespace

SUITE_SETUP()
{
    torch::set_num_threads(2);
    for (const char *variant : {"llama", "qwen2"}) {
        auto config = smallConfig(variant);
        emloc::test::writeModelFolder(source(variant), config, *randomWeights(config, 7), torch::kFloat64);
    }
    // 12 sequences of 20-40 tokens: more tokens (about 350) than any projection has inputs (112), so
    // every Gram has full rank and no eigenvalue is clamped.
    state().calibration = emloc::test::randomCalibration(smallConfig("llama").vocabSize, 12, 20, 40, 3);
}

TEST_CASE(fullRankReproducesTheOriginal)
{
    struct Data
    {
        const char *name;
        std::string variant;
    };
    const std::vector<Data> rows{{"llama", "llama"}, {"qwen2 (q/k/v bias, tied)", "qwen2"}};
    for (const auto &[rowName, variant] : rows) {
        emloc::test::Row row(rowName);
        const std::string out = state().dir.filePath("full-" + variant);
        EmulatorOptions options = fp64Options(out);
        options.overrides = {parseModuleRule("*=rank:100000")}; // clamped to min(out, in): full rank
        Feedback feedback;
        buildEmulator(openModel(source(variant)), state().calibration, options, feedback);

        CausalLM original = loadFp64(source(variant));
        CausalLM emulator = loadFp64(out);
        COMPARE(emulator.layer(0).linear("mlp.down_proj")->kind(), std::string("low_rank"));
        torch::NoGradGuard noGrad;
        const auto chunks = calibrationChunks(state().calibration, kChunk);
        for (const auto &chunk : chunks) {
            auto inputs = original.prepareInputs(chunk.ids.size(0), chunk.ids.size(1), chunk.attentionMask);
            auto hidden = original.embed(chunk.ids);
            for (int64_t i = 0; i < original.numLayers(); ++i) {
                auto expected = original.runLayer(i, hidden, inputs);
                auto got = emulator.runLayer(i, hidden, inputs);
                const double error = maxAbsDiff(got, expected) / expected.abs().max().item<double>();
                VERIFY2(error < 1e-11, emloc::test::str("layer ", i, ": relative ", error));
                hidden = expected;
            }
        }
        const auto &ids = chunks.front();
        const double logits = maxAbsDiff(emulator.forward(ids.ids, ids.attentionMask),
                                         original.forward(ids.ids, ids.attentionMask));
        VERIFY2(logits < 1e-9, emloc::test::str(logits));
    }
}

TEST_CASE(recordedErrorIsTheActivationErrorAndOptimal)
{
    const std::string out = state().dir.filePath("ratio04");
    Feedback feedback;
    const auto result =
        buildEmulator(openModel(source("llama")), state().calibration, fp64Options(out), feedback);
    const auto manifest = readEmulatorManifest(out);
    VERIFY(manifest == result.manifest);
    CausalLM original = loadFp64(source("llama"));
    const auto inputs = emloc::test::projectionInputs(original, state().calibration, kChunk);
    SafetensorsFile factors(out + "/model.safetensors");
    int checked = 0;
    for (const auto &[name, record] : manifest["modules"].items()) {
        if (record["kind"] != "low_rank")
            continue;
        const torch::Tensor &x = inputs.at(name);
        const auto slot = name.substr(name.find('.', 13) + 1);
        const auto weight =
            std::dynamic_pointer_cast<DenseLinear>(original.layer(std::stoll(name.substr(13))).linear(slot))
                ->weight();
        const double recorded = record["whitened_error"].get<double>();
        // ||(W - Wu Wv) X^T||_F measured on the calibration activations.
        const double measured = (weight - composed(factors, name)).matmul(x.t()).norm().item<double>();
        VERIFY2(std::abs(recorded - measured) <= 1e-8 * measured,
                emloc::test::str(name, ": recorded ", recorded, ", measured ", measured));
        // Eckart-Young: no rank-k matrix does better than the truncated SVD of W X^T.
        const int64_t rank = record["rank"].get<int64_t>();
        auto s = torch::linalg_svdvals(weight.matmul(x.t()));
        const double optimum = s.slice(0, rank).square().sum().sqrt().item<double>();
        VERIFY2(std::abs(recorded - optimum) <= 1e-8 * optimum, name);
        const double retained = record["retained_energy"].get<double>();
        VERIFY(std::abs(retained - (1.0 - optimum * optimum / s.square().sum().item<double>())) < 1e-10);
        ++checked;
    }
    COMPARE(checked, 3 * 7 - 1);
    COMPARE(manifest["calibration"]["clamped_eigenvalues"].get<double>(), 0.0);
}

TEST_CASE(ranksFollowTheRuleAndTheLastDownProjStaysDense)
{
    const std::string out = state().dir.filePath("ratio04");
    const auto manifest = readEmulatorManifest(out);
    const auto config = smallConfig("llama");
    for (const auto &[name, record] : manifest["modules"].items()) {
        const int64_t m = record["out"], n = record["in"];
        if (name == "model.layers.2.mlp.down_proj") {
            COMPARE(record["kind"].get<std::string>(), std::string("dense"));
            continue;
        }
        COMPARE(record["kind"].get<std::string>(), std::string("low_rank"));
        COMPARE(record["rank"].get<int64_t>(), int64_t(std::floor(0.4 * m * n / double(m + n))));
        COMPARE(record["energy_curve"].size(), energyCurveRatios().size());
        for (size_t i = 1; i < record["energy_curve"].size(); ++i)
            VERIFY(record["energy_curve"][i].get<double>() >= record["energy_curve"][i - 1].get<double>());
    }
    SafetensorsFile file(out + "/model.safetensors");
    VERIFY(file.contains("model.layers.2.mlp.down_proj.weight"));
    VERIFY(!file.contains("model.layers.2.mlp.up_proj.weight"));
    COMPARE(file.info("model.layers.1.mlp.up_proj.weight_u").shape, (std::vector<int64_t>{112, 13}));
    COMPARE(manifest["parameters"].get<int64_t>(), emulatorParameterCount(config, 0.4, true));
    COMPARE(manifest["source"]["fingerprint"].get<std::string>(), modelFingerprint(source("llama")));
    COMPARE(manifest["calibration"]["tokens"].get<int64_t>(), state().calibration.tokens);
    COMPARE(manifest["energy_curve"]["retained_energy"].size(), size_t(20));
    // The emulator is a model folder: its config is the original's, its forward composes the factors.
    ModelFiles files = openModel(out);
    COMPARE(files.config.numLayers, config.numLayers);
    CausalLM emulator = loadFp64(out);
    CausalLM composedModel = loadFp64(source("llama"));
    for (const auto &name : composedModel.linearNames())
        if (file.contains(name + ".weight_u"))
            composedModel.linearSlot(name) = std::make_shared<DenseLinear>(composed(file, name));
    torch::NoGradGuard noGrad;
    auto ids = torch::randint(3, config.vocabSize, {2, 9}, torch::kInt64);
    VERIFY(maxAbsDiff(emulator.forward(ids), composedModel.forward(ids)) < 1e-10);
}

TEST_CASE(whiteningBeatsPlainSvd)
{
    const std::string out = state().dir.filePath("plain");
    EmulatorOptions options = fp64Options(out);
    options.plainSvd = true;
    Feedback feedback;
    buildEmulator(openModel(source("llama")), state().calibration, options, feedback);
    const auto plain = readEmulatorManifest(out);
    const auto whitened = readEmulatorManifest(state().dir.filePath("ratio04"));
    COMPARE(plain["method"].get<std::string>(), std::string("plain SVD (ablation)"));
    CausalLM original = loadFp64(source("llama"));
    const auto inputs = emloc::test::projectionInputs(original, state().calibration, kChunk);
    SafetensorsFile factors(out + "/model.safetensors");
    double plainTotal = 0, whitenedTotal = 0;
    for (const auto &[name, record] : plain["modules"].items()) {
        if (record["kind"] != "low_rank")
            continue;
        const auto slot = name.substr(name.find('.', 13) + 1);
        const auto weight =
            std::dynamic_pointer_cast<DenseLinear>(original.layer(std::stoll(name.substr(13))).linear(slot))
                ->weight();
        const double measured =
            (weight - composed(factors, name)).matmul(inputs.at(name).t()).norm().item<double>();
        const double recorded = record["activation_error"].get<double>();
        VERIFY2(std::abs(recorded - measured) <= 1e-8 * measured, name);
        const double best = whitened["modules"][name]["whitened_error"].get<double>();
        VERIFY2(best <= measured * (1 + 1e-12), name);
        plainTotal += measured * measured;
        whitenedTotal += best * best;
    }
    emloc::test::info(
        emloc::test::format("calibration-activation error, sum of squares: whitened %.4g, plain SVD %.4g",
                            whitenedTotal, plainTotal));
    VERIFY(whitenedTotal < 0.95 * plainTotal);
}

TEST_CASE(rulesOverrideTheRatio)
{
    COMPARE(parseModuleRule("*.q_proj=dense").kind, ModuleRule::Kind::Dense);
    COMPARE(parseModuleRule("down_proj=0.6").ratio, 0.6);
    COMPARE(parseModuleRule("model.layers.0.*=rank:3").rank, int64_t(3));
    for (const char *bad :
         {"q_proj", "=0.5", "q_proj=", "q_proj=1.5", "q_proj=0", "q_proj=rank:0", "q_proj=x"})
        VERIFY_THROWS(Error, parseModuleRule(bad));
    VERIFY(parseModuleRule("q_proj=dense").matches("model.layers.4.self_attn.q_proj"));
    VERIFY(parseModuleRule("self_attn.*=dense").matches("model.layers.4.self_attn.o_proj"));
    VERIFY(!parseModuleRule("mlp.*=dense").matches("model.layers.4.self_attn.o_proj"));

    const std::string out = state().dir.filePath("rules");
    EmulatorOptions options = fp64Options(out);
    options.overrides = {parseModuleRule("q_proj=dense"), parseModuleRule("model.layers.0.*=rank:3"),
                         parseModuleRule("model.layers.1.mlp.*=0.2")};
    options.keepLastDownProjDense = false;
    Feedback feedback;
    buildEmulator(openModel(source("llama")), state().calibration, options, feedback);
    const auto modules = readEmulatorManifest(out)["modules"];
    COMPARE(modules["model.layers.0.self_attn.q_proj"]["rank"].get<int64_t>(), int64_t(3)); // later wins
    COMPARE(modules["model.layers.1.self_attn.q_proj"]["kind"].get<std::string>(), std::string("dense"));
    COMPARE(modules["model.layers.1.mlp.up_proj"]["rank"].get<int64_t>(),
            int64_t(std::floor(0.2 * 112 * 48 / 160.0)));
    COMPARE(modules["model.layers.2.mlp.down_proj"]["kind"].get<std::string>(), std::string("low_rank"));
}

TEST_CASE(rankAllocationKeepsTheBudget)
{
    const std::string out = state().dir.filePath("allocated");
    EmulatorOptions options = fp64Options(out);
    options.allocateRanks = true;
    Feedback feedback;
    buildEmulator(openModel(source("llama")), state().calibration, options, feedback);
    const auto allocated = readEmulatorManifest(out);
    const auto uniform = readEmulatorManifest(state().dir.filePath("ratio04"));
    COMPARE(allocated["rank_allocation"].get<std::string>(), std::string("spectrum"));
    VERIFY(allocated["parameters"].get<int64_t>() <= uniform["parameters"].get<int64_t>());
    double retainedAllocated = 0, retainedUniform = 0;
    bool differs = false;
    SafetensorsFile file(out + "/model.safetensors");
    for (const auto &[name, record] : allocated["modules"].items()) {
        if (record["kind"] != "low_rank")
            continue;
        const int64_t rank = record["rank"];
        differs = differs || rank != uniform["modules"][name]["rank"].get<int64_t>();
        COMPARE(file.info(name + ".weight_u").shape[1], rank);
        COMPARE(file.info(name + ".weight_v").shape[0], rank);
        retainedAllocated += record["total_energy"].get<double>() - record["discarded_energy"].get<double>();
        retainedUniform += uniform["modules"][name]["total_energy"].get<double>() -
                           uniform["modules"][name]["discarded_energy"].get<double>();
    }
    VERIFY(differs);
    emloc::test::info(emloc::test::format("retained whitened energy: allocated %.6g, uniform %.6g",
                                          retainedAllocated, retainedUniform));
    VERIFY(retainedAllocated >= retainedUniform);
    // The allocated emulator loads and runs.
    CausalLM emulator = loadFp64(out);
    torch::NoGradGuard noGrad;
    VERIFY(
        torch::isfinite(emulator.forward(torch::randint(3, 96, {1, 6}, torch::kInt64))).all().item<bool>());
}

TEST_CASE(badInputsLeaveNothingBehind)
{
    const auto config = smallConfig("llama");
    Feedback feedback;
    const std::string out = state().dir.filePath("bad");
    // A ratio outside (0, 1].
    for (double ratio : {0.0, 1.5, -0.2}) {
        EmulatorOptions options = fp64Options(out, ratio);
        VERIFY_THROWS(Error,
                      buildEmulator(openModel(source("llama")), state().calibration, options, feedback));
    }
    // A tensor missing from the weights, and one with the wrong shape: found when its layer is read.
    auto missing = randomWeights(config, 7);
    missing->tensors.erase("model.layers.1.mlp.up_proj.weight");
    emloc::test::writeModelFolder(state().dir.filePath("missing"), config, *missing, torch::kFloat64);
    auto wrong = randomWeights(config, 7);
    wrong->tensors["model.layers.2.self_attn.k_proj.weight"] = torch::randn({20, 48});
    emloc::test::writeModelFolder(state().dir.filePath("wrong"), config, *wrong, torch::kFloat64);
    for (const char *name : {"missing", "wrong"}) {
        try {
            buildEmulator(openModel(state().dir.filePath(name)), state().calibration, fp64Options(out),
                          feedback);
            FAIL("expected an error");
        } catch (const Error &error) {
            const std::string text = error.what();
            VERIFY2(text.find(std::string(name) == "missing" ? "mlp.up_proj.weight" : "k_proj.weight") !=
                        std::string::npos,
                    error.what());
        }
        VERIFY2(leftovers(out).empty(), emloc::test::joined(leftovers(out), ", "));
    }
    // No calibration tokens.
    VERIFY_THROWS(Error,
                  buildEmulator(openModel(source("llama")), CalibrationSet{}, fp64Options(out), feedback));
    // Cancelled after the first layer.
    CancelAfterFirstLayer cancelling;
    VERIFY_THROWS(CancelledError, buildEmulator(openModel(source("llama")), state().calibration,
                                                fp64Options(out), cancelling));
    VERIFY2(leftovers(out).empty(), emloc::test::joined(leftovers(out), ", "));
    // An existing folder is refused, and with overwrite survives a failed build intact.
    std::filesystem::create_directories(out);
    emloc::test::writeFile(out + "/keep.txt", "");
    VERIFY(emloc::test::fileExists(out + "/keep.txt"));
    VERIFY_THROWS(Error,
                  buildEmulator(openModel(source("llama")), state().calibration, fp64Options(out), feedback));
    EmulatorOptions overwrite = fp64Options(out);
    overwrite.overwrite = true;
    VERIFY_THROWS(Error, buildEmulator(openModel(state().dir.filePath("wrong")), state().calibration,
                                       overwrite, feedback));
    VERIFY(emloc::test::fileExists(out + "/keep.txt"));
    COMPARE(leftovers(out), std::vector<std::string>{"bad"});
    buildEmulator(openModel(source("llama")), state().calibration, overwrite, feedback);
    VERIFY(!emloc::test::fileExists(out + "/keep.txt"));
    VERIFY(emloc::test::fileExists(out + "/emulator.json"));
    COMPARE(leftovers(out), std::vector<std::string>{"bad"});
}
