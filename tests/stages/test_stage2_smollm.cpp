// LoRA training on the real SmolLM2-135M (full model, LoRA on every projection, CPU): step time, peak RSS and
// the FLOP rate of a step against a plain matmul measured in the same run.
#include "emloc/model/causal_lm.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/stages/train_loop.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/util/torch_runtime.h"

#include "unit_test.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

using namespace emloc;

namespace {
// float32 GEMM rate of the shape that dominates a step (tokens x hidden times hidden x intermediate).
double matmulGflops(int threads)
{
    torch::set_num_threads(threads);
    auto a = torch::randn({512, 576});
    auto b = torch::randn({576, 1536});
    auto c = torch::matmul(a, b); // warm-up
    const int repeats = 40;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i)
        c = torch::matmul(a, b);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return 2.0 * 512 * 576 * 1536 * repeats / seconds / 1e9;
}

} // namespace

TEST_CASE(trainOnDemoData)
{
    VERIFY2(test::fileExists(test::demoGgufPath()), "the demo GGUF is missing: run scripts/setup.sh");
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    test::TempDir dir;
    const std::string out = dir.filePath("run");
    const std::string data = test::sourceDir() + "/resources/demo/bookings-train.jsonl";

    auto files = core::openModel(test::demoGgufPath());
    auto tokenizer = core::Tokenizer::fromJson(files.tokenizerJson, "demo tokenizer");
    auto chatTemplate = core::ChatTemplate::fromModel(files.tokenizerConfig, "auto");
    core::PrepareOptions prepare;
    prepare.tokenize.maxLength = 256;
    auto prepared = core::prepareDataset(data, chatTemplate, *tokenizer, prepare);
    const double matmulBefore = matmulGflops(core::threadCount());

    core::resetPeakRss();
    core::CausalLM model(files);
    core::TrainOptions options;
    options.outputDir = out;
    options.steps = 3;
    options.batchSize = 2;
    options.gradAccum = 1;
    options.packing = true;
    options.packLength = 256;
    options.learningRate = 1e-4;
    options.warmupRatio = 0;
    core::LoraTrainer trainer(model, options);
    core::Feedback feedback;
    auto result = trainer.run(prepared.examples, {}, feedback);
    const double matmulAfter = matmulGflops(core::threadCount());
    const double rate = result.flopsPerStep / result.secondsPerStep / 1e9;
    const double matmul = std::max(matmulBefore, matmulAfter);
    test::info(emloc::test::format(
        "SmolLM2-135M LoRA r=8 on all projections, batch 2 x 256 (packed), fp32 CPU, %d threads, "
        "gradient checkpointing: %.2f s/step, peak RSS %.0f MiB (model, data and training), loss %.3f "
        "-> %.3f",
        core::threadCount(), result.secondsPerStep, result.peakMemoryBytes / 1048576.0, result.firstTrainLoss,
        result.finalTrainLoss));
    test::info(emloc::test::format(
        "step ~%.0f GFLOP -> %.1f GFLOP/s; plain 512x576x1536 matmul %.1f GFLOP/s (%.1f before, %.1f "
        "after): "
        "%.0f %% of the matmul rate",
        result.flopsPerStep / 1e9, rate, matmul, matmulBefore, matmulAfter, 100 * rate / matmul));
    COMPARE(result.steps, int64_t(3));
    VERIFY(result.finalTrainLoss > 0 && result.finalTrainLoss < 10);
    VERIFY(result.peakMemoryBytes > 100e6);
    VERIFY(rate > 0.05 * matmul); // a step far below the matmul rate means a slow path crept in

    auto adapter = core::loadAdapter(out);
    COMPARE(adapter.modules.size(), size_t(30 * 7));
    std::ifstream metrics(out + "/metrics.jsonl");
    std::string line;
    int lines = 0;
    while (std::getline(metrics, line))
        ++lines;
    COMPARE(lines, 3);
}
