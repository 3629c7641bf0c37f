// The streamed correction of stage 3 on small random models written to disk: the identity of method.md
// through the file path, the zero correction when the emulator is exact, the clamp rule, the report,
// and the errors for bad inputs (nothing half-written).
#include "stage3_test_util.h"

#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/refine.h"

#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace emloc;
using namespace emloc::test;

namespace {

struct Fixture
{
    TempDir dir;
    core::ModelConfig config = smallConfig("llama");
    std::shared_ptr<MemoryWeights> weights = randomWeights(config, 11);
    std::string root() const { return dir.path(); }
    std::string model() const { return root() + "/model"; }
    std::string emulator() const { return root() + "/emulator"; }
    std::string adapter() const { return root() + "/adapter"; }

    // r = 4, alpha = 8: s = 2, so a missing scale would show.
    explicit Fixture(int64_t emulatorRank = 6)
    {
        writeModelFolder(model(), config, *weights);
        writeEmulatorFolder(emulator(), config, *weights, emulatorRank);
        core::writePeftAdapter(randomAdapter(*weights, allModules(config), 4, 8.0, 5), adapter());
    }

    core::CorrectionReport correct(const std::string &out, double clamp)
    {
        core::CorrectionOptions options;
        options.modelPath = model();
        options.emulatorPath = emulator();
        options.adapterPath = adapter();
        options.outDir = out;
        options.clampLimit = clamp;
        return core::runCorrection(options);
    }
};

// Orthonormal basis of the row space of A (n x r), float64.
torch::Tensor rowBasis(const torch::Tensor &a)
{
    auto [q, r] = torch::linalg_qr(a.to(torch::kFloat64).t(), "reduced");
    return q;
}

} // namespace

TEST_CASE(unclampedIdentityThroughFiles)
{
    Fixture f;
    const std::string out = f.root() + "/corrected";
    core::CorrectionReport report = f.correct(out, 0);
    COMPARE(report.clampedComponents(), int64_t(0));

    core::PeftAdapter trained = core::readPeftAdapter(f.adapter());
    core::PeftAdapter corrected = core::readPeftAdapter(out);
    COMPARE(corrected.modules.size(), trained.modules.size());
    COMPARE(corrected.config.r, int64_t(4));
    COMPARE(corrected.config.loraAlpha, 4.0);
    VERIFY(!corrected.config.useRslora);
    auto emulator = core::openEmulatorWeights(f.emulator(), f.weights);
    double worstSpan = 0, worstComplement = 0, gap = 0;
    for (const auto &entry : trained.modules) {
        const core::PeftLoraModule *fixed = corrected.find(entry.module);
        VERIFY2(fixed, entry.module.c_str());
        COMPARE(corrected.scaleFor(entry.module), 1.0);
        const std::string name = entry.module + ".weight";
        torch::Tensor w = f.weights->tensor(name).to(torch::kFloat64);
        torch::Tensor we = emulator->tensor(name).to(torch::kFloat64);
        torch::Tensor p = rowBasis(entry.a);
        torch::Tensor left = w + updateOf(corrected, *fixed);
        torch::Tensor right = we + updateOf(trained, entry);
        torch::Tensor complement = torch::eye(w.size(1), torch::kFloat64) - p.matmul(p.t());
        const double scale = w.abs().max().item<double>();
        worstSpan = std::max(worstSpan, maxAbsDiff(left.matmul(p), right.matmul(p)) / scale);
        worstComplement =
            std::max(worstComplement, maxAbsDiff(left.matmul(complement), w.matmul(complement)) / scale);
        gap = std::max(gap, maxAbsDiff(w.matmul(p), we.matmul(p)) / scale);
    }
    info(str("identity: span ", worstSpan, ", complement ", worstComplement,
             " (relative to max |W|); emulator gap on the span ", gap));
    // The factors are stored as float32: the identity holds to float32 rounding, while the emulator
    // differs from W by orders of magnitude more on the span.
    VERIFY(worstSpan < 2e-6);
    VERIFY(worstComplement < 2e-6);
    VERIFY(gap > 1e-2);

    // The report beside the adapter.
    const nlohmann::json json = nlohmann::json::parse(core::readTextFile(out + "/correction_report.json"));
    COMPARE(json["modules"].size(), trained.modules.size());
    COMPARE(json["clamp_enabled"].get<bool>(), false);
    VERIFY(json["modules"][0]["correction_norm"].get<double>() > 0);
    const nlohmann::json config = nlohmann::json::parse(core::readTextFile(out + "/adapter_config.json"));
    COMPARE(config["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
    COMPARE(config["lora_alpha"].get<int64_t>(), int64_t(4));
    COMPARE(config["use_rslora"].get<bool>(), false);
}

TEST_CASE(exactEmulatorGivesZeroCorrection)
{
    Fixture f(0); // W_E = W
    const std::string out = f.root() + "/corrected";
    core::CorrectionReport report = f.correct(out, 3.0);
    for (const auto &module : report.modules)
        COMPARE(module.unclampedNorm, 0.0);
    core::PeftAdapter trained = core::readPeftAdapter(f.adapter());
    core::PeftAdapter corrected = core::readPeftAdapter(out);
    double worst = 0;
    for (const auto &entry : trained.modules) {
        const torch::Tensor want = updateOf(trained, entry);
        worst = std::max(worst, maxAbsDiff(updateOf(corrected, *corrected.find(entry.module)), want) /
                                    want.abs().max().item<double>());
    }
    info(str("W_E = W: max relative |B''A' - sBA| = ", worst));
    VERIFY(worst < 1e-6);
}

TEST_CASE(clampFollowsTheRule)
{
    Fixture f;
    const double limit = 0.5; // small enough that some components are clamped, not all
    const std::string out = f.root() + "/clamped";
    core::CorrectionReport report = f.correct(out, limit);
    core::PeftAdapter trained = core::readPeftAdapter(f.adapter());
    core::PeftAdapter corrected = core::readPeftAdapter(out);
    auto emulator = core::openEmulatorWeights(f.emulator(), f.weights);
    int64_t clamped = 0, untouched = 0;
    double worst = 0;
    for (const auto &entry : trained.modules) {
        const core::PeftLoraModule &fixed = *corrected.find(entry.module);
        const std::string name = entry.module + ".weight";
        torch::Tensor p = fixed.a.to(torch::kFloat64).t();         // A' = P^T
        torch::Tensor bPrime = updateOf(trained, entry).matmul(p); // B' = s B A P
        torch::Tensor raw =
            (f.weights->tensor(name).to(torch::kFloat64) - emulator->tensor(name).to(torch::kFloat64))
                .matmul(p);
        torch::Tensor applied = bPrime - fixed.b.to(torch::kFloat64); // C = B' - B''
        for (int64_t i = 0; i < p.size(1); ++i) {
            const double b = bPrime.select(1, i).abs().mean().item<double>();
            const double c = raw.select(1, i).abs().mean().item<double>();
            torch::Tensor expected = raw.select(1, i);
            if (c > limit * b) {
                expected = expected * (limit * b / c);
                ++clamped;
            } else {
                ++untouched;
            }
            // B'' is stored in float32: C = B' - B'' is exact to float32 round-off of B' and C.
            const double scale = std::max(raw.select(1, i).abs().max().item<double>(),
                                          bPrime.select(1, i).abs().max().item<double>());
            worst = std::max(worst, maxAbsDiff(applied.select(1, i), expected) / std::max(1e-12, scale));
        }
    }
    info(str("clamp L = ", limit, ": ", static_cast<long long>(clamped), " components clamped, ",
             static_cast<long long>(untouched), " not; worst relative deviation ", worst));
    COMPARE(report.clampedComponents(), clamped);
    VERIFY(clamped > 0);
    VERIFY(untouched > 0);
    VERIFY(worst < 1e-5);
}

TEST_CASE(adapterForAnotherModelIsRefused)
{
    Fixture f;
    core::ModelConfig other = f.config;
    other.hiddenSize = 40;
    other.headDim = 10;
    auto otherWeights = randomWeights(other, 3);
    const std::string wrong = f.root() + "/wrong_adapter";
    core::writePeftAdapter(randomAdapter(*otherWeights, allModules(other), 4, 8.0, 1), wrong);
    core::CorrectionOptions options;
    options.modelPath = f.model();
    options.emulatorPath = f.emulator();
    options.adapterPath = wrong;
    options.outDir = f.root() + "/out";
    try {
        core::runCorrection(options);
        FAIL("a mismatched adapter was accepted");
    } catch (const core::Error &e) {
        const std::string message = e.what();
        VERIFY2(message.find("another model") != std::string::npos, e.what());
        VERIFY2(message.find("model.layers.0.self_attn.q_proj") != std::string::npos, e.what());
    }
    VERIFY(!std::filesystem::exists(options.outDir));
}

TEST_CASE(missingEmulatorIsRefused)
{
    Fixture f;
    core::CorrectionOptions options;
    options.modelPath = f.model();
    options.emulatorPath = f.root() + "/no_such_emulator";
    options.adapterPath = f.adapter();
    options.outDir = f.root() + "/out";
    try {
        core::runCorrection(options);
        FAIL("a missing emulator was accepted");
    } catch (const core::Error &e) {
        VERIFY2(std::string(e.what()).find("no_such_emulator") != std::string::npos, e.what());
    }
    VERIFY(!std::filesystem::exists(options.outDir));
}

TEST_CASE(unwritableDestinationLeavesNothing)
{
    Fixture f;
    const std::string missingParent = f.root() + "/missing/out";
    VERIFY_THROWS(core::Error, f.correct(missingParent, 3));
    VERIFY(!std::filesystem::exists(f.root() + "/missing"));

    // An existing non-empty folder is neither overwritten nor touched.
    const std::string existing = f.root() + "/existing";
    std::filesystem::create_directories(existing);
    core::writeFileAtomically(existing + "/keep.txt", "keep");
    VERIFY_THROWS(core::Error, f.correct(existing, 3));
    COMPARE(core::readTextFile(existing + "/keep.txt"), std::string("keep"));

    // A read-only parent (a file system that refuses writes).
    VERIFY_THROWS(core::Error, f.correct("/proc/emloc_stage3_out", 3));
    for (const auto &entry : std::filesystem::directory_iterator(f.root()))
        VERIFY2(entry.path().filename().string().find(".partial-") == std::string::npos,
                entry.path().c_str());
}

TEST_CASE(peftRoundTripKeepsScales)
{
    // rsLoRA and per-module ranks survive our writer and reader.
    Fixture f;
    core::PeftAdapter adapter = randomAdapter(*f.weights, {"model.layers.0.self_attn.q_proj"}, 4, 8.0, 2);
    adapter.modules.push_back(
        randomAdapter(*f.weights, {"model.layers.1.mlp.up_proj"}, 2, 8.0, 3).modules[0]);
    adapter.config.useRslora = true;
    const std::string out = f.root() + "/roundtrip";
    core::writePeftAdapter(adapter, out);
    core::PeftAdapter back = core::readPeftAdapter(out);
    COMPARE(back.modules.size(), size_t(2));
    for (const auto &entry : adapter.modules) {
        const core::PeftLoraModule *read = back.find(entry.module);
        VERIFY(read);
        VERIFY(torch::equal(read->a, entry.a));
        VERIFY(torch::equal(read->b, entry.b));
        COMPARE(back.scaleFor(entry.module), adapter.scaleFor(entry.module));
    }
    COMPARE(adapter.scaleFor("model.layers.1.mlp.up_proj"), 8.0 / std::sqrt(2.0));
}

// Refinement trains the last layers' modules on the original model and leaves every other module
// exactly as the correction wrote it.
TEST_CASE(refineTrainsOnlyTheLastLayers)
{
    Fixture f;
    const std::string corrected = f.root() + "/corrected";
    f.correct(corrected, 3);
    std::vector<core::TokenizedExample> examples;
    for (int i = 0; i < 8; ++i) {
        core::TokenizedExample example;
        example.inputIds = {1, 5 + i, 9, 13, 17, 21, 25, 29};
        example.labels = example.inputIds;
        example.labels[0] = core::kIgnoreLabel;
        examples.push_back(example);
    }
    core::RefineOptions options;
    options.modelPath = f.model();
    options.adapterPath = corrected;
    options.outDir = f.root() + "/refined";
    options.layers = 1;
    options.train.steps = 6;
    options.train.batchSize = 4;
    options.train.gradAccum = 1;
    options.train.learningRate = 3e-2;
    options.train.warmupRatio = 0;
    options.train.lora.dropout = 0;
    core::Feedback feedback;
    const core::RefineResult result = core::refineAdapter(options, examples, {}, feedback);
    const int64_t last = f.config.numLayers - 1;
    COMPARE(result.layers, std::vector<int64_t>{last});
    VERIFY(result.training.finalTrainLoss < result.training.firstTrainLoss);

    const core::PeftAdapter before = core::readPeftAdapter(corrected);
    const core::PeftAdapter after = core::readPeftAdapter(options.outDir);
    COMPARE(after.modules.size(), before.modules.size());
    COMPARE(after.config.loraAlpha, double(after.config.r)); // still scale 1
    for (size_t i = 0; i < before.modules.size(); ++i) {
        const auto &a = before.modules[i];
        const auto &b = after.modules[i];
        COMPARE(b.module, a.module);
        const bool same = torch::equal(a.a, b.a) && torch::equal(a.b, b.b);
        COMPARE(same, core::peftModuleLayer(a.module) != last);
    }
    VERIFY(std::filesystem::exists(options.outDir + "/refine_report.json"));

    // Bad requests name what is wrong and write nothing.
    options.outDir = f.root() + "/refused";
    options.layers = 0;
    VERIFY_THROWS(core::Error, core::refineAdapter(options, examples, {}, feedback));
    options.layers = 1;
    options.adapterPath = f.adapter(); // scale 2: not a corrected adapter
    VERIFY_THROWS(core::Error, core::refineAdapter(options, examples, {}, feedback));
    VERIFY(!std::filesystem::exists(options.outDir));
}
