// The planner's arithmetic and its budget rule. (Predictions against measured peaks are checked by the
// stage suites, which can measure.)
#include "emloc/api/error.h"
#include "emloc/plan/memory_plan.h"

#include <QtTest>

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

class TestMemoryPlan : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void emulatorKeepsTheRatioOfTheProjections()
    {
        ModelConfig c = smolLm2();
        const int64_t projections = c.numLayers * (576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536);
        const int64_t rest = c.totalParameters() - projections;
        for (double ratio : {0.2, 0.4, 0.6}) {
            int64_t kept = emulatorParameterCount(c, ratio, /*keepLastDownProjDense=*/false) - rest;
            double fraction = double(kept) / double(projections);
            QVERIFY2(fraction <= ratio && fraction > ratio - 0.01, qPrintable(QString::number(fraction)));
        }
        // The last block's down_proj stays dense.
        QCOMPARE(emulatorParameterCount(c, 0.4, true) - emulatorParameterCount(c, 0.4, false),
                 int64_t(576 * 1536) - 167 * (576 + 1536)); // rank floor(0.4*576*1536/2112) = 167
    }

    void peaksGrowWithTheRatioAndStayBelowFullLora()
    {
        ModelConfig c = smolLm2();
        PlanSettings s;
        auto curve = memoryCurve(c, s, 0.1, 1.0, 10);
        QCOMPARE(curve.size(), size_t(10));
        for (size_t i = 1; i < curve.size(); ++i)
            QVERIFY(curve[i].fineTuning.totalBytes() >= curve[i - 1].fineTuning.totalBytes());
        MemoryPlan plan = planMemory(c, s, 0.4);
        QVERIFY(plan.fineTuning.totalBytes() < plan.fullLora.totalBytes());
        QVERIFY(plan.correction.totalBytes() < plan.inference.totalBytes());
        QCOMPARE(plan.loraParameters,
                 int64_t(30 * 8 * (2 * (576 + 576) + 2 * (192 + 576) + 3 * (1536 + 576))));
        // The optimizer keeps two float32 moments per LoRA parameter.
        for (const auto &item : plan.fineTuning.items)
            if (item.name == "optimizer states")
                QCOMPARE(item.bytes, plan.loraParameters * 8);
    }

    // Refinement trains the LoRA of the last N layers on the whole original model: its weights are the
    // original's, its LoRA and activations those of N layers; it does not depend on the ratio and is not
    // part of the EMLoC peak (a budget it exceeds skips it).
    void refinementIsPlannedApart()
    {
        ModelConfig c = smolLm2();
        PlanSettings s;
        QVERIFY(planMemory(c, s, 0.4).refinement.items.empty()); // off
        s.refineLayers = 4;
        const MemoryPlan plan = planMemory(c, s, 0.4);
        const auto item = [](const StageEstimate &stage, const std::string &name) {
            for (const auto &i : stage.items)
                if (i.name == name)
                    return i.bytes;
            return int64_t(-1);
        };
        QCOMPARE(item(plan.refinement, "weights"), item(plan.inference, "weights"));
        QCOMPARE(item(plan.refinement, "LoRA weights"), plan.loraParameters / 30 * 4 * 4);
        QVERIFY(item(plan.refinement, "activations") < item(plan.fullLora, "activations"));
        // The frozen layers' outputs are kept up to a quarter of the weights (less when a budget says so);
        // without them refinement needs less than LoRA on the whole model.
        QCOMPARE(item(plan.refinement, "frozen layers' outputs"), item(plan.inference, "weights") / 4);
        PlanSettings uncached = s;
        uncached.frozenPrefixBytes = 0;
        const StageEstimate lean = planMemory(c, uncached, 0.4).refinement;
        QVERIFY(lean.totalBytes() < plan.fullLora.totalBytes());
        QCOMPARE(lean.totalBytes() + item(plan.refinement, "frozen layers' outputs"),
                 plan.refinement.totalBytes());
        uncached.frozenPrefixBytes = 12345;
        QCOMPARE(item(planMemory(c, uncached, 0.4).refinement, "frozen layers' outputs"), int64_t(12345));
        QCOMPARE(planMemory(c, s, 0.2).refinement.totalBytes(), plan.refinement.totalBytes());
        s.refineLayers = 0;
        QCOMPARE(planMemory(c, s, 0.4).peakBytes(), plan.peakBytes());
        s.refineLayers = 8;
        QVERIFY(planMemory(c, s, 0.4).refinement.totalBytes() > plan.refinement.totalBytes());
        s.refineLayers = 1000; // more than the model has: all of them, and no layer is frozen
        QCOMPARE(item(planMemory(c, s, 0.4).refinement, "LoRA weights"), plan.loraParameters * 4);
        QCOMPARE(item(planMemory(c, s, 0.4).refinement, "frozen layers' outputs"), int64_t(-1));
    }

    void checkpointingAndSmallerBatchesNeedLess()
    {
        ModelConfig c = smolLm2();
        PlanSettings with, without;
        without.gradientCheckpointing = false;
        QVERIFY(planMemory(c, with, 0.4).fineTuning.totalBytes() <
                planMemory(c, without, 0.4).fineTuning.totalBytes());
        PlanSettings small = with;
        small.batchSize = 1;
        QVERIFY(planMemory(c, small, 0.4).fineTuning.totalBytes() <
                planMemory(c, with, 0.4).fineTuning.totalBytes());
    }

    void chooseRatioTakesTheLargestThatFits()
    {
        ModelConfig c = smolLm2();
        PlanSettings s;
        int64_t budget = planMemory(c, s, 0.5).peakBytes();
        RatioChoice choice = chooseRatio(c, s, budget);
        QVERIFY(choice.fits);
        QVERIFY(choice.ratio >= 0.5 - 1e-9);
        QVERIFY(choice.plan.peakBytes() <= budget);
        if (choice.ratio < 1.0)
            QVERIFY(planMemory(c, s, choice.ratio + 0.01).peakBytes() > budget);
    }

    void aBudgetTooSmallSaysWhatToChange()
    {
        ModelConfig c = smolLm2();
        PlanSettings s;
        RatioChoice choice = chooseRatio(c, s, 64LL << 20);
        QVERIFY(!choice.fits);
        QVERIFY2(choice.advice.find("No compression ratio fits in 64.0 MiB") != std::string::npos,
                 choice.advice.c_str());
    }

    void ratiosOutsideTheRangeAreRefused()
    {
        QVERIFY_THROWS_EXCEPTION(Error, planMemory(smolLm2(), PlanSettings{}, 0.0));
        QVERIFY_THROWS_EXCEPTION(Error, planMemory(smolLm2(), PlanSettings{}, 1.2));
    }
};

QTEST_GUILESS_MAIN(TestMemoryPlan)
#include "test_memory_plan.moc"
