// Stage 3 end to end on a constructed task: a "fine-tuned" target model T = W + Delta (Delta of rank r),
// an emulator (truncated SVD of W) and the LoRA a perfect fine-tune on the emulator would learn with A
// fixed to Delta's input directions: s B A = (W + Delta - W_E) P P^T. On held-out text sampled from T,
// the corrected adapter on the original model must have a lower loss than the uncorrected one (it
// recovers T exactly when unclamped), and the evaluation's metrics must behave.
#include "../text/fake_tokenizer.h"
#include "stage3_test_util.h"

#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/evaluate.h"
#include "emloc/text/chat_template.h"

#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace emloc;
using namespace emloc::test;

TEST_CASE(correctedBeatsUncorrectedOnHeldOut)
{
    TempDir dir;
    const std::string root = dir.path();
    core::ModelConfig config = smallConfig("llama");
    auto original = randomWeights(config, 21);
    const int64_t r = 4;
    const double alpha = 8; // s = 2
    const double s = alpha / r;

    // Delta = D E per module, the fine-tune's true update.
    torch::manual_seed(99);
    auto target = std::make_shared<MemoryWeights>(*original);
    core::PeftAdapter trained;
    trained.config.r = r;
    trained.config.loraAlpha = alpha;
    writeModelFolder(root + "/model", config, *original);
    writeEmulatorFolder(root + "/emulator", config, *original, 8);
    auto emulator = core::openEmulatorWeights(root + "/emulator", original);
    for (const auto &module : allModules(config)) {
        const std::string name = module + ".weight";
        torch::Tensor w = original->tensor(name).to(torch::kFloat64);
        torch::Tensor e = torch::randn({r, w.size(1)}, torch::kFloat64) / std::sqrt(double(w.size(1)));
        torch::Tensor delta = 0.6 * torch::randn({w.size(0), r}, torch::kFloat64).matmul(e);
        target->tensors[name] = (w + delta).to(torch::kFloat32);
        // The emulator fine-tune's optimum on span(E): s B A = (W + Delta - W_E) P P^T with A = P^T.
        auto [p, unused] = torch::linalg_qr(e.t(), "reduced");
        torch::Tensor we = emulator->tensor(name).to(torch::kFloat64);
        torch::Tensor b = (w + delta - we).matmul(p) / s;
        trained.modules.push_back({module, p.t().to(torch::kFloat32), b.to(torch::kFloat32)});
    }
    core::writePeftAdapter(trained, root + "/adapter");

    // Held-out text sampled from T; the loss counts the second half of each sequence.
    core::CausalLM targetModel(config, target);
    std::vector<core::HeldOutExample> examples;
    core::GenerationOptions sampling;
    sampling.maxNewTokens = 20;
    sampling.temperature = 1.0;
    for (int i = 0; i < 12; ++i) {
        sampling.seed = 1000 + i;
        std::vector<int64_t> prompt = {1, 5 + i, 40 + 3 * i, 17};
        auto output = core::generate(targetModel, prompt, sampling);
        core::HeldOutExample example;
        example.tokens.inputIds = prompt;
        example.tokens.inputIds.insert(example.tokens.inputIds.end(), output.tokens.begin(),
                                       output.tokens.end());
        example.tokens.labels.assign(example.tokens.inputIds.size(), core::kIgnoreLabel);
        for (size_t t = prompt.size(); t < example.tokens.inputIds.size(); ++t)
            example.tokens.labels[t] = example.tokens.inputIds[t];
        examples.push_back(example);
    }

    auto correctWith = [&](double clamp, const std::string &out) {
        core::CorrectionOptions options;
        options.modelPath = root + "/model";
        options.emulatorPath = root + "/emulator";
        options.adapterPath = root + "/adapter";
        options.outDir = out;
        options.clampLimit = clamp;
        core::runCorrection(options);
        return core::readPeftAdapter(out);
    };
    core::PeftAdapter unclamped = correctWith(0, root + "/corrected_unclamped");
    core::PeftAdapter clamped = correctWith(3, root + "/corrected");

    FakeTokenizer tokenizer;
    core::EvaluationOptions options;
    options.generation = false;
    auto evaluate = [&](std::shared_ptr<core::WeightSource> weights, const std::string &name) {
        core::CausalLM model(config, weights);
        return core::evaluateModel(model, name, examples, tokenizer, {}, options).loss;
    };
    const double lossTarget = evaluate(target, "target");
    const double lossOriginal = evaluate(original, "original");
    const double lossEmulator = evaluate(core::mergeAdapterWeights(emulator, trained), "emulator+lora");
    const double lossUncorrected = evaluate(core::mergeAdapterWeights(original, trained), "original+lora");
    const double lossCorrected =
        evaluate(core::mergeAdapterWeights(original, unclamped), "original+corrected");
    const double lossClamped =
        evaluate(core::mergeAdapterWeights(original, clamped), "original+corrected(L=3)");
    info(str("held-out loss: target ", lossTarget, ", original ", lossOriginal, ", emulator+lora ",
             lossEmulator, ", original+lora ", lossUncorrected, ", original+corrected ", lossCorrected,
             " (clamped L=3: ", lossClamped, ")"));
    VERIFY(lossCorrected < lossUncorrected - 0.05);
    VERIFY(std::abs(lossCorrected - lossTarget) < 1e-3); // unclamped it recovers T on this construction
    VERIFY(lossClamped < lossUncorrected);
}

// The emulator is evaluated as stage 2 trains it, on its factors, with the LoRA merged exactly as a
// rank k + r projection: same logits as the composed dense emulator + merged LoRA, at the factors' size.
TEST_CASE(factoredEmulatorWithLoraEqualsComposed)
{
    TempDir dir;
    const std::string root = dir.path();
    core::ModelConfig config = smallConfig("llama");
    auto original = randomWeights(config, 5);
    const int64_t k = 6;
    const int64_t r = 3;
    writeEmulatorFolder(root + "/emulator", config, *original, k);
    const core::PeftAdapter adapter = randomAdapter(*original, allModules(config), r, 6.0, 17, 0.3);

    auto composed = core::openEmulatorWeights(root + "/emulator", original);
    auto factored = core::openEmulatorWeights(root + "/emulator", original, core::EmulatorView::Factored);
    const std::string q = "model.layers.0.self_attn.q_proj";
    const std::string lastDown = "model.layers." + std::to_string(config.numLayers - 1) + ".mlp.down_proj";
    VERIFY(composed->contains(q + ".weight"));
    VERIFY(!factored->contains(q + ".weight")); // the original's dense weight must not show through
    VERIFY(factored->contains(q + ".weight_u") && factored->contains(q + ".weight_v"));
    VERIFY(factored->contains(lastDown + ".weight")); // stored dense by the emulator
    VERIFY(factored->contains("model.embed_tokens.weight"));

    auto mergedFactored = core::mergeAdapterWeights(factored, adapter);
    const int64_t out = original->shape(q + ".weight")[0];
    const int64_t in = original->shape(q + ".weight")[1];
    COMPARE(mergedFactored->shape(q + ".weight_u"), (std::vector<int64_t>{out, k + r}));
    COMPARE(mergedFactored->shape(q + ".weight_v"), (std::vector<int64_t>{k + r, in}));
    COMPARE(mergedFactored->tensor(q + ".weight_u").sizes().vec(), (std::vector<int64_t>{out, k + r}));

    // The reference in float64: W_E + s B A composed densely from the same stored factors.
    auto reference = std::make_shared<MemoryWeights>(*original);
    for (const core::PeftLoraModule &entry : adapter.modules) {
        const std::string &module = entry.module;
        const torch::Tensor emulated =
            factored->contains(module + ".weight")
                ? factored->tensor(module + ".weight").to(torch::kFloat64)
                : factored->tensor(module + ".weight_u")
                      .to(torch::kFloat64)
                      .matmul(factored->tensor(module + ".weight_v").to(torch::kFloat64));
        reference->tensors[module + ".weight"] = emulated + updateOf(adapter, entry);
    }
    core::CausalLMOptions options;
    options.placement.dtype = torch::kFloat64;
    core::CausalLM lowRank(config, core::mergeAdapterWeights(factored, adapter, torch::kFloat64), options);
    core::CausalLM dense(config, reference, options);
    int64_t lowRankParameters = 0;
    int64_t denseParameters = 0;
    for (const auto &[name, tensor] : lowRank.namedTensors())
        lowRankParameters += tensor.numel();
    for (const auto &[name, tensor] : dense.namedTensors())
        denseParameters += tensor.numel();
    VERIFY(lowRankParameters < denseParameters);

    torch::manual_seed(3);
    const torch::Tensor ids = torch::randint(0, config.vocabSize, {2, 9});
    torch::NoGradGuard noGrad;
    const torch::Tensor expected = dense.forward(ids);
    const double difference = (lowRank.forward(ids) - expected).abs().max().item<double>();
    // Both in float64 from the same stored factors; only the order of summation differs.
    VERIFY2(difference < 1e-10 * std::max(1.0, expected.abs().max().item<double>()),
            std::to_string(difference).c_str());
    // And the float32 merge the evaluation runs agrees with the composed emulator's dense merge.
    core::CausalLM lowRank32(config, mergedFactored);
    core::CausalLM dense32(config, core::mergeAdapterWeights(composed, adapter));
    VERIFY(torch::allclose(lowRank32.forward(ids), dense32.forward(ids), 1e-4, 1e-4));

    // An adapter for another shape is refused on factors as on dense weights.
    core::PeftAdapter wrong = adapter;
    wrong.modules.front().a = torch::randn({r, in + 1});
    try {
        core::mergeAdapterWeights(factored, wrong);
        FAIL("an adapter of the wrong shape was merged into the factors");
    } catch (const core::Error &error) {
        VERIFY2(std::string(error.what()).find(q) != std::string::npos, error.what());
    }
}

// The dense merge is W + s B A rounded once from float64, and never writes into a weight that its
// source still holds (in-memory weights, a shared model).
TEST_CASE(denseMergeIsExactAndLeavesTheBaseAlone)
{
    core::ModelConfig config = smallConfig("llama");
    auto original = randomWeights(config, 8);
    const core::PeftAdapter adapter = randomAdapter(*original, allModules(config), 4, 8.0, 23, 0.3);
    const std::string name = "model.layers.1.mlp.up_proj.weight";
    const torch::Tensor before = original->tensor(name).clone();
    auto merged = core::mergeAdapterWeights(original, adapter);
    const torch::Tensor first = merged->tensor(name);
    VERIFY(torch::equal(merged->tensor(name), first));
    const core::PeftLoraModule *entry = adapter.find("model.layers.1.mlp.up_proj");
    VERIFY(entry);
    const torch::Tensor exact = before.to(torch::kFloat64) + updateOf(adapter, *entry);
    // Within half a float32 unit in the last place of the exact sum (a rounding margin for the
    // float64 arithmetic itself).
    const torch::Tensor ulp =
        (torch::nextafter(first, torch::full_like(first, INFINITY)) - first).to(torch::kFloat64);
    VERIFY(((first.to(torch::kFloat64) - exact).abs() <= 0.5 * ulp * (1 + 1e-6)).all().item<bool>());

    // Weights a source hands out without copying (here in float64, where no conversion copies
    // them either) stay untouched: the merge writes into a weight only when nobody else holds it.
    struct SharedWeights : MemoryWeights
    {
        torch::Tensor tensor(const std::string &tensorName) const override { return tensors.at(tensorName); }
    };
    auto original64 = std::make_shared<SharedWeights>();
    for (const auto &[tensorName, tensor] : original->tensors)
        original64->tensors[tensorName] = tensor.to(torch::kFloat64);
    const torch::Tensor before64 = original64->tensor(name).clone();
    const torch::Tensor merged64 = core::mergeAdapterWeights(original64, adapter)->tensor(name);
    VERIFY(torch::equal(original64->tensor(name), before64));
    VERIFY(torch::allclose(merged64, exact, 0, 1e-12));
}

TEST_CASE(matchMetrics)
{
    VERIFY(core::textMatches("  42 \n", "42", core::MatchMetric::Exact));
    VERIFY(!core::textMatches("42.", "42", core::MatchMetric::Exact));
    VERIFY(core::textMatches("The answer is  PARIS, of course", "paris", core::MatchMetric::Contains));
    VERIFY(!core::textMatches("Lyon", "Paris", core::MatchMetric::Contains));
    VERIFY(!core::textMatches("anything", "  ", core::MatchMetric::Contains));
    VERIFY_THROWS(core::Error, core::parseMatchMetric("fuzzy"));
}

// An answer is exact only when it stops where the reference stops: the same greedy continuation
// matches with its end token declared and misses (but still "contains") without it.
TEST_CASE(exactMatchNeedsTheAnswerToStop)
{
    core::ModelConfig config = smallConfig("llama");
    FakeTokenizer tokenizer;
    const std::vector<int64_t> prompt = {'Q', ':', '7', 'A', ':'};
    core::GenerationOptions greedy;
    greedy.maxNewTokens = 6;
    // The reference is the first three greedy tokens and the fourth is declared the end token, so the
    // fourth must not occur among the first three: the first weight seed whose continuation allows it.
    std::unique_ptr<core::CausalLM> found;
    std::vector<int64_t> continuation;
    for (uint64_t seed = 5; seed < 25 && !found; ++seed) {
        auto model = std::make_unique<core::CausalLM>(config, randomWeights(config, seed));
        continuation = core::generate(*model, prompt, greedy).tokens;
        if (std::find(continuation.begin(), continuation.begin() + 3, continuation[3]) ==
            continuation.begin() + 3)
            found = std::move(model);
    }
    VERIFY2(found, "no seed in 5..24 gives a continuation whose fourth token is new");
    core::CausalLM &model = *found;
    const std::vector<int64_t> answer(continuation.begin(), continuation.begin() + 3);
    const int64_t endToken = continuation[3];
    core::HeldOutExample example;
    example.promptIds = prompt;
    example.tokens.inputIds = prompt;
    example.tokens.inputIds.insert(example.tokens.inputIds.end(), answer.begin(), answer.end());
    example.tokens.labels.assign(prompt.size(), core::kIgnoreLabel);
    example.tokens.labels.insert(example.tokens.labels.end(), answer.begin(), answer.end());
    example.reference = tokenizer.decode(answer, true);

    core::EvaluationOptions options;
    options.maxNewTokens = 6;
    const auto withStop = core::evaluateModel(model, "m", {example}, tokenizer, {endToken}, options);
    COMPARE(withStop.stopped, int64_t(1));
    COMPARE(withStop.stopRate, 1.0);
    COMPARE(withStop.matched, int64_t(1));
    VERIFY(withStop.samples.at(0).stopped);

    const auto endless = core::evaluateModel(model, "m", {example}, tokenizer, {}, options);
    COMPARE(endless.stopped, int64_t(0));
    COMPARE(endless.stopRate, 0.0);
    COMPARE(endless.matched, int64_t(0)); // exact is the default: trailing tokens are a miss
    options.metric = core::MatchMetric::Contains;
    COMPARE(core::evaluateModel(model, "m", {example}, tokenizer, {}, options).matched, int64_t(1));

    // The counts survive evaluation.json.
    core::EvaluationResult result;
    result.metric = "exact";
    result.source = "held-out.jsonl";
    result.stopTokens = {endToken};
    result.models = {withStop, endless};
    const core::EvaluationResult back = core::evaluationFromJson(result.toJson());
    COMPARE(back.source, std::string("held-out.jsonl"));
    COMPARE(back.stopTokens, std::vector<int64_t>{endToken});
    COMPARE(back.models.at(0).stopped, int64_t(1));
    COMPARE(back.models.at(1).stopRate, 0.0);
    VERIFY(back.models.at(0).samples.at(0).stopped);
}

// The batched evaluation (left-padded generation, loss over the answer positions only, in chunks)
// reports what a one-example-at-a-time reference computes: the loss from the full logits in float64,
// each answer from generate() alone, in the examples' order, whatever the batch size.
TEST_CASE(batchedEvaluationEqualsOneByOne)
{
    core::ModelConfig config = smallConfig("qwen3");
    core::CausalLMOptions modelOptions;
    modelOptions.placement.dtype = torch::kFloat64;
    core::CausalLM model(config, randomWeights(config, 9), modelOptions);
    FakeTokenizer tokenizer;
    torch::manual_seed(3);
    std::vector<core::HeldOutExample> examples;
    for (int i = 0; i < 7; ++i) {
        const int64_t promptLength = 2 + (i * 5) % 9, answerLength = 1 + i % 4;
        const auto ids = torch::randint(3, config.vocabSize, {promptLength + answerLength}, torch::kInt64);
        core::HeldOutExample example;
        example.tokens.inputIds.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
        example.tokens.labels.assign(promptLength, core::kIgnoreLabel);
        example.tokens.labels.insert(example.tokens.labels.end(),
                                     example.tokens.inputIds.begin() + promptLength,
                                     example.tokens.inputIds.end());
        example.promptIds.assign(example.tokens.inputIds.begin(),
                                 example.tokens.inputIds.begin() + promptLength);
        example.reference =
            tokenizer.decode(std::vector<int64_t>(example.tokens.inputIds.begin() + promptLength,
                                                  example.tokens.inputIds.end()),
                             true);
        examples.push_back(example);
    }

    double nll = 0;
    int64_t counted = 0;
    std::vector<std::vector<int64_t>> answers;
    core::GenerationOptions greedy;
    greedy.maxNewTokens = 5;
    greedy.stopTokenIds = {7, 11, 19};
    for (const auto &example : examples) {
        torch::NoGradGuard noGrad;
        const auto logits = model.forward(torch::tensor(example.tokens.inputIds).unsqueeze(0))[0];
        for (size_t t = 1; t < example.tokens.labels.size(); ++t) {
            if (example.tokens.labels[t] == core::kIgnoreLabel)
                continue;
            nll -= torch::log_softmax(logits[int64_t(t) - 1], 0)[example.tokens.labels[t]].item<double>();
            ++counted;
        }
        answers.push_back(core::generate(model, example.promptIds, greedy).tokens);
    }

    core::EvaluationOptions options;
    options.maxNewTokens = greedy.maxNewTokens;
    options.keepSamples = -1;
    for (int64_t batch : {1, 3, 16}) {
        options.batchSize = batch;
        options.generationBatch = batch;
        const auto result =
            core::evaluateModel(model, "m", examples, tokenizer, greedy.stopTokenIds, options);
        COMPARE(result.tokens, counted);
        VERIFY2(std::abs(result.loss - nll / double(counted)) < 1e-10,
                str("batch ", batch, ": ", result.loss, " against ", nll / counted));
        COMPARE(result.samples.size(), examples.size());
        for (size_t i = 0; i < examples.size(); ++i) {
            std::vector<int64_t> expected = answers[i];
            const bool stopped = !expected.empty() && std::count(greedy.stopTokenIds.begin(),
                                                                 greedy.stopTokenIds.end(), expected.back());
            if (stopped)
                expected.pop_back();
            COMPARE(result.samples[i].reference, examples[i].reference);
            COMPARE(result.samples[i].generated, tokenizer.decode(expected, true));
            COMPARE(result.samples[i].stopped, stopped);
        }
    }
}

// The generation batch shrinks when its KV cache would outgrow a quarter of the weights.
TEST_CASE(generationBatchStaysWithinTheWeights)
{
    const core::ModelConfig llama8b = core::catalogModel("llama-3.1-8b").config;
    // 8.03e9 parameters / 4 against 2 x 32 x 8 x 128 values per token: 59 rows of 512 tokens, 14 of 2112.
    COMPARE(core::generationBatchRows(llama8b, 16, 512), int64_t(16));
    COMPARE(core::generationBatchRows(llama8b, 64, 512), int64_t(59));
    COMPARE(core::generationBatchRows(llama8b, 16, 2112), int64_t(14));
    COMPARE(core::generationBatchRows(llama8b, 16, 1 << 24), int64_t(1));
    COMPARE(core::generationBatchRows(llama8b, 0, 64), int64_t(1));
}

// The template's end of turn is a stop token besides the model's declared EOS list.
TEST_CASE(endOfTurnOfEachTemplateFamily)
{
    FakeTokenizer tokenizer;
    const int64_t imEnd = tokenizer.tokenToId("<|im_end|>");
    const int64_t eos = tokenizer.tokenToId("</s>");
    using core::ChatTemplate;
    using core::TemplateKind;
    COMPARE(core::endOfTurnToken(ChatTemplate::builtin(TemplateKind::ChatML, "<s>", "</s>"), tokenizer),
            imEnd);
    COMPARE(core::endOfTurnToken(ChatTemplate::builtin(TemplateKind::Llama2, "<s>", "</s>"), tokenizer), eos);
    const std::string jinja = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                              "{% endfor %}";
    COMPARE(core::endOfTurnToken(ChatTemplate::fromJinja(jinja, "<s>", "</s>"), tokenizer), imEnd);
    // A template that ends the turn with plain text declares no end token.
    const std::string plainEnd = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n\n{% endfor %}";
    COMPARE(core::endOfTurnToken(ChatTemplate::fromJinja(plainEnd, "<s>", "</s>"), tokenizer), int64_t(-1));

    // stopTokensFor merges the list from generation_config.json with the template's end of turn.
    core::ModelFiles files;
    files.generationConfig = {{"eos_token_id", nlohmann::json::array({eos, 300})}};
    const auto chatml = ChatTemplate::builtin(TemplateKind::ChatML, "<s>", "</s>");
    std::vector<int64_t> expected = {eos, imEnd, 300};
    std::sort(expected.begin(), expected.end());
    COMPARE(core::stopTokensFor(files, chatml, tokenizer), expected);
}

TEST_CASE(heldOutPromptIsBeforeTheLastAnswer)
{
    FakeTokenizer tokenizer;
    core::TokenizedExample example;
    example.inputIds = {256, 'Q', ':', '1', 'A', ':', '4', '2', 257};
    const int64_t x = core::kIgnoreLabel;
    example.labels = {x, x, x, '1', x, x, '4', '2', 257};
    auto held = core::makeHeldOutExamples({example}, tokenizer);
    COMPARE(held.size(), size_t(1));
    COMPARE(held[0].promptIds, std::vector<int64_t>({256, 'Q', ':', '1', 'A', ':'}));
    COMPARE(held[0].reference, std::string("42"));
}
