// The planner's arithmetic and its budget rule. (Predictions against measured peaks are checked by the
// stage suites, which can measure.)
#include "emloc/api/error.h"
#include "emloc/plan/memory_plan.h"

#include "unit_test.h"

using namespace emloc::core;

namespace {
// SmolLM2-135M's shape.
ModelConfig smolLm2()
{
    ModelConfig c;
    c.modelType = "llama";
    c.vocabSize = 49152;
    c.hiddenSize = 576;
    c.intermediateSize = 1536;
    c.numLayers = 30;
    c.numHeads = 9;
    c.numKeyValueHeads = 3;
    c.headDim = 64;
    c.tieWordEmbeddings = true;
    return c;
}
} // namespace

TEST_CASE(emulatorKeepsTheRatioOfTheProjections)
{
    ModelConfig c = smolLm2();
    const int64_t projections = c.numLayers * (576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536);
    const int64_t rest = c.totalParameters() - projections;
    for (double ratio : {0.2, 0.4, 0.6}) {
        int64_t kept = emulatorParameterCount(c, ratio, /*keepLastDownProjDense=*/false) - rest;
        double fraction = double(kept) / double(projections);
        VERIFY2(fraction <= ratio && fraction > ratio - 0.01, emloc::test::str(fraction));
    }
    // The last block's down_proj stays dense.
    COMPARE(emulatorParameterCount(c, 0.4, true) - emulatorParameterCount(c, 0.4, false),
            int64_t(576 * 1536) - 167 * (576 + 1536)); // rank floor(0.4*576*1536/2112) = 167
}

TEST_CASE(peaksGrowWithTheRatioAndStayBelowFullLora)
{
    ModelConfig c = smolLm2();
    PlanSettings s;
    auto curve = memoryCurve(c, s, 0.1, 1.0, 10);
    COMPARE(curve.size(), size_t(10));
    for (size_t i = 1; i < curve.size(); ++i)
        VERIFY(curve[i].fineTuning.totalBytes() >= curve[i - 1].fineTuning.totalBytes());
    MemoryPlan plan = planMemory(c, s, 0.4);
    VERIFY(plan.fineTuning.totalBytes() < plan.fullLora.totalBytes());
    VERIFY(plan.correction.totalBytes() < plan.inference.totalBytes());
    COMPARE(plan.loraParameters, int64_t(30 * 8 * (2 * (576 + 576) + 2 * (192 + 576) + 3 * (1536 + 576))));
    // The optimizer keeps two float32 moments per LoRA parameter.
    for (const auto &item : plan.fineTuning.items)
        if (item.name == "optimizer states")
            COMPARE(item.bytes, plan.loraParameters * 8);
}

// Refinement trains the LoRA of the last N layers on the whole original model: its weights are the
// original's, its LoRA and activations those of N layers; it does not depend on the ratio and is not
// part of the EMLoC peak (a budget it exceeds skips it).
TEST_CASE(refinementIsPlannedApart)
{
    ModelConfig c = smolLm2();
    PlanSettings s;
    VERIFY(planMemory(c, s, 0.4).refinement.items.empty()); // off
    s.refineLayers = 4;
    const MemoryPlan plan = planMemory(c, s, 0.4);
    const auto item = [](const StageEstimate &stage, const std::string &name) {
        for (const auto &i : stage.items)
            if (i.name == name)
                return i.bytes;
        return int64_t(-1);
    };
    COMPARE(item(plan.refinement, "weights"), item(plan.inference, "weights"));
    COMPARE(item(plan.refinement, "LoRA weights"), plan.loraParameters / 30 * 4 * 4);
    VERIFY(item(plan.refinement, "activations") < item(plan.fullLora, "activations"));
    // The frozen layers' outputs are kept up to a quarter of the weights (less when a budget says so);
    // without them refinement needs less than LoRA on the whole model.
    COMPARE(item(plan.refinement, "frozen layers' outputs"), item(plan.inference, "weights") / 4);
    PlanSettings uncached = s;
    uncached.frozenPrefixBytes = 0;
    const StageEstimate lean = planMemory(c, uncached, 0.4).refinement;
    VERIFY(lean.totalBytes() < plan.fullLora.totalBytes());
    COMPARE(lean.totalBytes() + item(plan.refinement, "frozen layers' outputs"),
            plan.refinement.totalBytes());
    uncached.frozenPrefixBytes = 12345;
    COMPARE(item(planMemory(c, uncached, 0.4).refinement, "frozen layers' outputs"), int64_t(12345));
    COMPARE(planMemory(c, s, 0.2).refinement.totalBytes(), plan.refinement.totalBytes());
    s.refineLayers = 0;
    COMPARE(planMemory(c, s, 0.4).peakBytes(), plan.peakBytes());
    s.refineLayers = 8;
    VERIFY(planMemory(c, s, 0.4).refinement.totalBytes() > plan.refinement.totalBytes());
    s.refineLayers = 1000; // more than the model has: all of them, and no layer is frozen
    COMPARE(item(planMemory(c, s, 0.4).refinement, "LoRA weights"), plan.loraParameters * 4);
    COMPARE(item(planMemory(c, s, 0.4).refinement, "frozen layers' outputs"), int64_t(-1));
}

TEST_CASE(checkpointingAndSmallerBatchesNeedLess)
{
    ModelConfig c = smolLm2();
    PlanSettings with, without;
    without.gradientCheckpointing = false;
    VERIFY(planMemory(c, with, 0.4).fineTuning.totalBytes() <
           planMemory(c, without, 0.4).fineTuning.totalBytes());
    PlanSettings small = with;
    small.batchSize = 1;
    VERIFY(planMemory(c, small, 0.4).fineTuning.totalBytes() <
           planMemory(c, with, 0.4).fineTuning.totalBytes());
}

// Data-parallel processes: each holds its share of the calibration in stage 1, and the whole micro-batch
// in stage 2 unless a step has fewer micro-batches than processes.
TEST_CASE(eachProcessPlansItsShare)
{
    const ModelConfig c = smolLm2();
    PlanSettings one;
    one.calibrationSamples = 64;
    one.batchSize = 4;
    COMPARE(processShare(one, 1, 4).calibrationSamples, int64_t(64));
    const PlanSettings two = processShare(one, 2, 4);
    COMPARE(two.calibrationSamples, int64_t(32));
    COMPARE(two.batchSize, int64_t(4));                               // four micro-batches, two each
    COMPARE(processShare(one, 3, 4).calibrationSamples, int64_t(22)); // the largest share
    COMPARE(processShare(one, 8, 4).batchSize, int64_t(1));           // rows of each micro-batch split
    COMPARE(processShare(one, 3, 2).batchSize, int64_t(2));
    VERIFY(planMemory(c, two, 0.4).construction.totalBytes() <
           planMemory(c, one, 0.4).construction.totalBytes());
    COMPARE(planMemory(c, two, 0.4).fineTuning.totalBytes(), planMemory(c, one, 0.4).fineTuning.totalBytes());
    PlanSettings few = one;
    few.calibrationSamples = 3;
    few.calibrationChunk = 4;
    COMPARE(processShare(few, 2, 1).calibrationChunk, int64_t(2));
}

TEST_CASE(chooseRatioTakesTheLargestThatFits)
{
    ModelConfig c = smolLm2();
    PlanSettings s;
    int64_t budget = planMemory(c, s, 0.5).peakBytes();
    RatioChoice choice = chooseRatio(c, s, budget);
    VERIFY(choice.fits);
    VERIFY(choice.ratio >= 0.5 - 1e-9);
    VERIFY(choice.plan.peakBytes() <= budget);
    if (choice.ratio < 1.0)
        VERIFY(planMemory(c, s, choice.ratio + 0.01).peakBytes() > budget);
}

TEST_CASE(aBudgetTooSmallSaysWhatToChange)
{
    ModelConfig c = smolLm2();
    PlanSettings s;
    RatioChoice choice = chooseRatio(c, s, 64LL << 20);
    VERIFY(!choice.fits);
    VERIFY2(choice.advice.find("No compression ratio fits in 64.0 MiB") != std::string::npos,
            choice.advice.c_str());
}

TEST_CASE(ratiosOutsideTheRangeAreRefused)
{
    VERIFY_THROWS(Error, planMemory(smolLm2(), PlanSettings{}, 0.0));
    VERIFY_THROWS(Error, planMemory(smolLm2(), PlanSettings{}, 1.2));
}
