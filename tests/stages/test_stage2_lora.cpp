// LoRA modules, their gradients (against finite differences and with gradient checkpointing), AdamW
// against torch's, the schedules and the PEFT adapter files.
#include "stage2_test_util.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/dropout.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/stages/optimizer.h"
#include "emloc/stages/train_loop.h"
#include "emloc/util/torch_runtime.h"

#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace emloc;
using emloc::test::maxAbsDiff;

namespace {
core::Batch paddedBatch(const std::vector<core::TokenizedExample> &examples)
{
    core::BatchOptions options;
    options.batchSize = static_cast<int64_t>(examples.size());
    std::vector<std::vector<size_t>> rows;
    for (size_t i = 0; i < examples.size(); ++i)
        rows.push_back({i});
    return core::collateBatch(examples, rows, options);
}

double meanLoss(core::CausalLM &model, const core::Batch &batch, const core::LoraAttachment &lora,
                bool checkpointing)
{
    auto loss = core::batchLossSum(model, batch, &lora, checkpointing);
    return (loss.sum / static_cast<double>(loss.tokens)).item<double>();
}
} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
}

TEST_CASE(freshLoraChangesNothing)
{
    auto model = test::tinyModel();
    auto ids = torch::randint(3, 96, {2, 9}, torch::kInt64);
    auto before = model->forward(ids);
    torch::manual_seed(3);
    auto lora = core::attachLora(*model, core::LoraConfig{});
    COMPARE(static_cast<int64_t>(lora.modules.size()), int64_t(3 * 7));
    lora.setTraining(false);
    COMPARE(maxAbsDiff(model->forward(ids), before), 0.0);
    // Shapes of the ORIGINAL layer; A within PEFT's Kaiming bound 1/sqrt(in); B zero; only A, B train.
    const auto &[name, module] = lora.modules[3]; // layer 0 o_proj: in = 4 heads x 12
    COMPARE(name, std::string("model.layers.0.self_attn.o_proj"));
    COMPARE(module->a().sizes().vec(), (std::vector<int64_t>{8, 48}));
    COMPARE(module->b().sizes().vec(), (std::vector<int64_t>{48, 8}));
    VERIFY(module->a().abs().max().item<double>() <= 1.0 / std::sqrt(48.0));
    VERIFY(module->a().abs().max().item<double>() > 0.5 / std::sqrt(48.0));
    COMPARE(module->b().abs().sum().item<double>(), 0.0);
    VERIFY(module->a().requires_grad() && module->b().requires_grad());
    for (const auto &named : module->base()->namedTensors())
        VERIFY(!named.second.requires_grad());
    COMPARE(module->scale(), 2.0);
    core::LoraConfig rs;
    rs.rsLora = true;
    COMPARE(rs.scale(), 16.0 / std::sqrt(8.0));

    core::detachLora(*model, lora);
    COMPARE(model->linearSlot("model.layers.0.self_attn.o_proj")->kind(), std::string("dense"));
}

TEST_CASE(targetsAndLayers)
{
    auto model = test::tinyModel();
    core::LoraConfig config;
    config.targets = core::parseLoraTargets("q, v_proj");
    auto lora = core::attachLora(*model, config, {1});
    COMPARE(static_cast<int64_t>(lora.modules.size()), int64_t(2));
    COMPARE(lora.modules[1].first, std::string("model.layers.1.self_attn.v_proj"));
    COMPARE(lora.layers(), (std::vector<int64_t>{1}));
    core::LoraConfig wrong;
    wrong.targets = {"qkv_proj"};
    auto other = test::tinyModel();
    VERIFY_THROWS(core::Error, core::attachLora(*other, wrong));
}

TEST_CASE(gradientsMatchFiniteDifferences)
{
    auto model = test::tinyModel(torch::kFloat64);
    torch::manual_seed(5);
    core::LoraConfig config;
    config.rank = 4;
    config.dropout = 0;
    auto lora = core::attachLora(*model, config);
    {
        torch::NoGradGuard noGrad;
        for (auto &parameter : lora.parameters())
            parameter.copy_(0.1 * torch::randn_like(parameter));
    }
    auto batch = paddedBatch(test::randomExamples(3, 10, 3, 9));
    auto loss = core::batchLossSum(*model, batch, &lora, false);
    (loss.sum / static_cast<double>(loss.tokens)).backward();

    torch::manual_seed(17);
    double worst = 0;
    int checked = 0;
    for (size_t m : {size_t(0), size_t(5), size_t(13), size_t(20)}) { // q0, up0, down1, down2
        for (auto *parameter : {&lora.modules[m].second->a(), &lora.modules[m].second->b()}) {
            auto flat = parameter->detach().view(-1);
            auto grad = parameter->grad().view(-1);
            for (int k = 0; k < 3; ++k) {
                const int64_t i = torch::randint(flat.numel(), {1}).item<int64_t>();
                const double h = 1e-6;
                const double original = flat[i].item<double>();
                double plus, minus;
                {
                    torch::NoGradGuard noGrad;
                    flat[i] = original + h;
                    plus = meanLoss(*model, batch, lora, false);
                    flat[i] = original - h;
                    minus = meanLoss(*model, batch, lora, false);
                    flat[i] = original;
                }
                const double numeric = (plus - minus) / (2 * h);
                const double analytic = grad[i].item<double>();
                const double error = std::abs(numeric - analytic) / std::max(1e-2, std::abs(analytic));
                // (the floor: central differences with h = 1e-6 carry ~1e-9 of float64 round-off)
                worst = std::max(worst, error);
                ++checked;
            }
        }
    }
    test::info(test::str("LoRA gradient vs central differences (fp64, ", checked,
                         " entries): worst relative error ", worst));
    VERIFY(worst < 1e-6);
}

TEST_CASE(checkpointedGradientsEqualPlain)
{
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
        std::vector<std::vector<torch::Tensor>> grads;
        std::vector<double> losses;
        auto batch = paddedBatch(test::randomExamples(3, 12, 2, 4));
        for (bool checkpointing : {false, true}) {
            auto model = test::tinyModel(dtype);
            torch::manual_seed(21);
            core::LoraConfig config;
            config.dropout = 0.2; // the recompute must draw the same dropout masks
            auto lora = core::attachLora(*model, config);
            {
                torch::NoGradGuard noGrad;
                for (auto &parameter : lora.parameters())
                    parameter.copy_(0.1 * torch::randn_like(parameter));
            }
            torch::manual_seed(99);
            auto loss = core::batchLossSum(*model, batch, &lora, checkpointing);
            (loss.sum / static_cast<double>(loss.tokens)).backward();
            losses.push_back(loss.sum.item<double>());
            std::vector<torch::Tensor> g;
            for (const auto &parameter : lora.parameters())
                g.push_back(parameter.grad().clone());
            grads.push_back(g);
            // The generator ends where the plain run leaves it: later dropout is unaffected.
            losses.push_back(torch::rand({1}, torch::kFloat64).item<double>());
        }
        double worst = 0;
        for (size_t i = 0; i < grads[0].size(); ++i)
            worst = std::max(worst, maxAbsDiff(grads[0][i], grads[1][i]));
        test::info(test::str(dtype == torch::kFloat64 ? "fp64" : "fp32",
                             ": checkpointed vs plain LoRA gradients, max abs diff ", worst));
        COMPARE(losses[0], losses[2]);
        COMPARE(losses[1], losses[3]);
        VERIFY(worst <= (dtype == torch::kFloat64 ? 1e-14 : 1e-6));
    }
}

// The hashed dropout: the drop rate, the exact expectation, the same mask for the same seed (what
// checkpoint recompute and resume rely on) and a backward that applies the forward's mask.
TEST_CASE(hashedDropoutIsDropout)
{
    const int64_t count = 2'000'000;
    for (double p : {0.05, 0.3}) {
        auto keep = core::hashedDropoutMask(count, 1234, p);
        const double dropped = 1.0 - keep.to(torch::kFloat64).mean().item<double>();
        // Binomial standard deviation at 2M draws is below 3.3e-4; 5 of them.
        VERIFY2(std::abs(dropped - p) < 1.7e-3, test::str(dropped));
        VERIFY(keep.equal(core::hashedDropoutMask(count, 1234, p)));
        const double agreement =
            keep.eq(core::hashedDropoutMask(count, 1235, p)).to(torch::kFloat64).mean().item<double>();
        VERIFY(std::abs(agreement - ((1 - p) * (1 - p) + p * p)) < 2e-3); // another seed: independent
        // Neighbouring elements and blocks are independent too.
        auto first = keep.narrow(0, 0, count - 1).to(torch::kFloat64);
        auto next = keep.narrow(0, 1, count - 1).to(torch::kFloat64);
        const double both = (first * next).mean().item<double>();
        VERIFY(std::abs(both - (1 - p) * (1 - p)) < 2e-3);
    }

    torch::manual_seed(5);
    auto x = torch::randn({64, 4096}, torch::kFloat64).requires_grad_(true);
    torch::manual_seed(9);
    auto y = core::hashedDropout(x, 0.25);
    torch::manual_seed(9);
    VERIFY(core::hashedDropout(x, 0.25).equal(y)); // the seed comes from the CPU generator
    auto kept = y.ne(0);
    const double scale = 1 / (1 - std::llround(0.25 * 4294967296.0) / 4294967296.0);
    VERIFY(torch::allclose(y.masked_select(kept), x.masked_select(kept) * scale, 0, 0));
    auto weights = torch::randn({64, 4096}, torch::kFloat64);
    (y * weights).sum().backward();
    VERIFY(torch::allclose(x.grad(), weights * kept.to(torch::kFloat64) * scale, 0, 0));
    // float32 and bfloat16 keep the same mask; p = 0 is the identity.
    torch::manual_seed(9);
    auto y32 = core::hashedDropout(x.detach().to(torch::kFloat32), 0.25);
    VERIFY(y32.ne(0).equal(kept));
    torch::manual_seed(9);
    VERIFY(core::hashedDropout(x.detach().to(torch::kBFloat16), 0.25).ne(0).equal(kept));
    VERIFY(core::hashedDropout(x, 0).equal(x));
    VERIFY_THROWS(core::Error, core::hashedDropout(x, 1.0));
}

TEST_CASE(adamWMatchesTorch)
{
    torch::manual_seed(1);
    std::vector<torch::Tensor> ours{torch::randn({5, 7}, torch::kFloat64).set_requires_grad(true),
                                    torch::randn({3}, torch::kFloat64).set_requires_grad(true)};
    std::vector<torch::Tensor> theirs;
    for (const auto &p : ours)
        theirs.push_back(p.detach().clone().set_requires_grad(true));
    core::AdamWOptions options;
    options.weightDecay = 0.05;
    core::AdamW adam(ours, options);
    torch::optim::AdamW reference(
        theirs, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.05));
    for (int step = 0; step < 6; ++step) {
        const double lr = 1e-2 * (1 + step) / 6;
        for (auto &group : reference.param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
        for (size_t i = 0; i < ours.size(); ++i) {
            auto g = torch::randn_like(ours[i]);
            ours[i].mutable_grad() = g.clone();
            theirs[i].mutable_grad() = g.clone();
        }
        adam.step(lr);
        reference.step();
    }
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, maxAbsDiff(ours[i], theirs[i]));
    test::info(test::str("AdamW vs torch::optim::AdamW after 6 steps: max abs diff ", worst));
    VERIFY(worst < 1e-14);
    COMPARE(adam.stepCount(), int64_t(6));
}

TEST_CASE(clippingAndSchedules)
{
    auto p = torch::zeros({4}, torch::kFloat64).set_requires_grad(true);
    p.mutable_grad() = torch::tensor({3.0, 4.0, 0.0, 0.0}, torch::kFloat64);
    COMPARE(core::clipGradNorm({p}, 1.0), 5.0);
    VERIFY(std::abs(p.grad().norm().item<double>() - 1.0) < 1e-6);

    using core::LrSchedule;
    COMPARE(core::warmupStepsFor(0.03, 500), int64_t(15));
    COMPARE(core::learningRateAt(LrSchedule::Cosine, 1.0, 0, 100, 10), 0.0);
    COMPARE(core::learningRateAt(LrSchedule::Cosine, 1.0, 5, 100, 10), 0.5);
    COMPARE(core::learningRateAt(LrSchedule::Cosine, 1.0, 10, 100, 10), 1.0);
    VERIFY(std::abs(core::learningRateAt(LrSchedule::Cosine, 1.0, 55, 100, 10) - 0.5) < 1e-12);
    VERIFY(std::abs(core::learningRateAt(LrSchedule::Linear, 2.0, 55, 100, 10) - 1.0) < 1e-12);
    COMPARE(core::learningRateAt(LrSchedule::Constant, 2.0, 99, 100, 10), 2.0);
    VERIFY_THROWS(core::Error, core::parseLrSchedule("step"));
}

TEST_CASE(adapterRoundTrip)
{
    test::TempDir dir;
    auto model = test::tinyModel();
    torch::manual_seed(2);
    core::LoraConfig config;
    config.rank = 4;
    config.alpha = 8;
    config.rsLora = true;
    auto lora = core::attachLora(*model, config);
    {
        torch::NoGradGuard noGrad;
        for (auto &parameter : lora.parameters())
            parameter.copy_(torch::randn_like(parameter));
    }
    const std::string folder = dir.filePath("adapter");
    core::saveAdapter(core::extractAdapter(lora, "tiny-base"), folder);

    auto json = nlohmann::json::parse(core::readTextFile(folder + "/adapter_config.json"));
    COMPARE(json["peft_type"].get<std::string>(), std::string("LORA"));
    COMPARE(json["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
    COMPARE(json["r"].get<int>(), 4);
    COMPARE(json["lora_alpha"].get<double>(), 8.0);
    COMPARE(json["use_rslora"].get<bool>(), true);
    COMPARE(json["base_model_name_or_path"].get<std::string>(), std::string("tiny-base"));
    COMPARE(json["target_modules"].size(), size_t(7));
    core::SafetensorsFile file(folder + "/adapter_model.safetensors");
    COMPARE(file.info("base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight").shape,
            (std::vector<int64_t>{4, 48}));
    COMPARE(file.info("base_model.model.model.layers.2.mlp.down_proj.lora_B.weight").shape,
            (std::vector<int64_t>{48, 4}));
    COMPARE(file.names().size(), size_t(3 * 7 * 2));

    auto loaded = core::loadAdapter(folder);
    COMPARE(loaded.config.scale(), config.scale());
    auto fresh = test::tinyModel();
    auto freshLora = core::attachLora(*fresh, loaded.config);
    core::loadAdapterInto(loaded, freshLora);
    lora.setTraining(false);
    freshLora.setTraining(false);
    auto ids = torch::randint(3, 96, {1, 7}, torch::kInt64);
    COMPARE(maxAbsDiff(model->forward(ids), fresh->forward(ids)), 0.0);

    // Wrong rank: the message names the module.
    auto other = test::tinyModel();
    core::LoraConfig rank8;
    auto otherLora = core::attachLora(*other, rank8);
    try {
        core::loadAdapterInto(loaded, otherLora);
        FAIL("a rank mismatch must be refused");
    } catch (const core::Error &e) {
        VERIFY(std::string(e.what()).find("model.layers.0.self_attn.q_proj") != std::string::npos);
    }
    core::writeFileAtomically(folder + "/adapter_config.json", R"({"peft_type": "IA3"})");
    VERIFY_THROWS(core::Error, core::loadAdapter(folder));
}
