// The decoder on small random in-memory models: KV cache, padding, causality, sliding window, projection
// slots and observers, layer streaming, generation and the sampling processors.
#include "model_test_util.h"

#include "emloc/api/error.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/util/torch_runtime.h"

#include "unit_test.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::maxAbsDiff;
using emloc::test::randomWeights;
using emloc::test::smallConfig;

namespace {
// fp32 against fp32 computed in a different order (cache, padding): a few ulps of the logits' scale.
constexpr double kTolerance = 1e-4;

// The rows of the data-driven cases.
const char *const kVariants[] = {"llama", "qwen2", "qwen3", "mistral"};

torch::Tensor randomIds(int64_t batch, int64_t length, int64_t vocab, uint64_t seed)
{
    torch::manual_seed(seed);
    return torch::randint(3, vocab, {batch, length}, torch::kInt64);
}

CausalLM makeModel(const std::string &variant, bool stream = false)
{
    auto config = smallConfig(variant);
    CausalLMOptions options;
    options.streamLayers = stream;
    return CausalLM(config, randomWeights(config, 42), options);
}

// Delegates to the projection it replaced and counts calls.
class CountingLinear : public Linear
{
public:
    explicit CountingLinear(std::shared_ptr<Linear> inner) : m_inner(std::move(inner)) {}
    torch::Tensor forward(const torch::Tensor &x) const override
    {
        ++calls;
        return m_inner->forward(x);
    }
    int64_t inFeatures() const override { return m_inner->inFeatures(); }
    int64_t outFeatures() const override { return m_inner->outFeatures(); }
    std::string kind() const override { return "counting"; }
    std::vector<std::pair<std::string, torch::Tensor>> namedTensors() const override
    {
        return m_inner->namedTensors();
    }
    void to(torch::Device device, torch::ScalarType dtype) override { m_inner->to(device, dtype); }
    mutable std::atomic<int> calls{0};

private:
    std::shared_ptr<Linear> m_inner;
};
} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0);
} // OMP_NUM_THREADS: ctest runs two suites at once

TEST_CASE(cacheMatchesFullSequence)
{
    for (const std::string variant : kVariants) {
        emloc::test::Row row(variant);
        torch::NoGradGuard noGrad;
        auto model = makeModel(variant);
        auto ids = randomIds(2, 12, model.config().vocabSize, 1);
        auto full = model.forward(ids);
        auto cache = model.makeCache();
        // A 4-token prefill, single tokens, then a 3-token chunk on top of the cache (the explicit-mask
        // path).
        std::vector<std::pair<int64_t, int64_t>> steps{{0, 4}, {4, 1}, {5, 1}, {6, 3}, {9, 1}, {10, 2}};
        for (auto [start, length] : steps) {
            auto logits = model.forward(ids.narrow(1, start, length), {}, cache.get());
            const double diff = maxAbsDiff(logits, full.narrow(1, start, length));
            VERIFY2(diff < kTolerance, emloc::test::str("step at ", start, ": max diff ", diff));
        }
        COMPARE(cache->length(), int64_t(12));
        VERIFY(cache->bytes() > 0);
    }
}

TEST_CASE(paddingIsInvisible)
{
    for (const std::string variant : kVariants) {
        emloc::test::Row row(variant);
        torch::NoGradGuard noGrad;
        auto model = makeModel(variant);
        auto ids = randomIds(3, 10, model.config().vocabSize, 2);
        auto mask = torch::ones({3, 10}, torch::kInt64);
        mask.index_put_({1, torch::indexing::Slice(0, 3)}, 0);  // left padding
        mask.index_put_({2, torch::indexing::Slice(7, 10)}, 0); // right padding
        auto logits = model.forward(ids, mask);
        auto left = model.forward(ids.narrow(0, 1, 1).narrow(1, 3, 7));
        auto right = model.forward(ids.narrow(0, 2, 1).narrow(1, 0, 7));
        VERIFY(logits.isfinite().all().item<bool>());
        VERIFY(maxAbsDiff(logits[1].narrow(0, 3, 7), left[0]) < kTolerance);
        VERIFY(maxAbsDiff(logits[2].narrow(0, 0, 7), right[0]) < kTolerance);
        VERIFY(maxAbsDiff(logits[0], model.forward(ids.narrow(0, 0, 1))[0]) < kTolerance);

        // The same left-padded row continued token by token through a cache equals the unpadded row.
        auto more = randomIds(3, 4, model.config().vocabSize, 3);
        auto cache = model.makeCache();
        model.forward(ids, mask, cache.get());
        auto alone =
            model.forward(torch::cat({ids.narrow(0, 1, 1).narrow(1, 3, 7), more.narrow(0, 1, 1)}, 1));
        for (int64_t i = 0; i < 4; ++i) {
            auto step = model.forward(more.narrow(1, i, 1), torch::ones({3, 1}, torch::kInt64), cache.get());
            const double diff = maxAbsDiff(step[1][0], alone[0][7 + i]);
            VERIFY2(diff < kTolerance, emloc::test::str("cached step ", i, ": ", diff));
        }
    }
}

TEST_CASE(causalAndSlidingWindow)
{
    torch::NoGradGuard noGrad;
    for (const std::string variant : {"llama", "mistral"}) {
        auto model = makeModel(variant);
        auto ids = randomIds(1, 16, model.config().vocabSize, 4);
        auto changed = ids.clone();
        changed[0][0] = (ids[0][0].item<int64_t>() + 1) % model.config().vocabSize;
        auto a = model.forward(ids);
        auto b = model.forward(changed);
        VERIFY(maxAbsDiff(a[0][0], b[0][0]) > 1e-3);
        auto laterChanged = ids.clone();
        laterChanged[0][10] = (ids[0][10].item<int64_t>() + 1) % model.config().vocabSize;
        // Causal: nothing before position 10 moves.
        VERIFY(maxAbsDiff(a.narrow(1, 0, 10), model.forward(laterChanged).narrow(1, 0, 10)) < 1e-6);
        // Window 5 over 3 layers reaches back 3 * 4 = 12 positions: 13.. no longer see token 0.
        const double far = maxAbsDiff(a.narrow(1, 13, 3), b.narrow(1, 13, 3));
        if (variant == "mistral")
            VERIFY2(far < 1e-6, emloc::test::str(far));
        else
            VERIFY(far > 1e-4);
    }
}

TEST_CASE(observerSeesProjectionInputs)
{
    torch::NoGradGuard noGrad;
    auto model = makeModel("qwen3");
    auto ids = randomIds(2, 6, model.config().vocabSize, 5);
    auto mask = torch::ones({2, 6}, torch::kInt64);
    mask.index_put_({0, torch::indexing::Slice(0, 2)}, 0);
    std::vector<std::vector<std::string>> groups;
    std::vector<torch::Tensor> rows;
    model.forward(ids, mask, nullptr, [&](const std::vector<std::string> &names, const torch::Tensor &input) {
        groups.push_back(names);
        rows.push_back(input.clone());
    });
    COMPARE(int(groups.size()), 4 * 3);
    const std::vector<std::string> qkv{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                       "model.layers.0.self_attn.v_proj"};
    VERIFY(groups[0] == qkv);
    VERIFY(groups[1] == std::vector<std::string>{"model.layers.0.self_attn.o_proj"});
    VERIFY((groups[6] ==
            std::vector<std::string>{"model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj"}));
    VERIFY(groups[11] == std::vector<std::string>{"model.layers.2.mlp.down_proj"});
    // 10 real tokens; widths hidden, heads * headDim, hidden, intermediate.
    COMPARE(rows[0].size(0), int64_t(10));
    COMPARE(rows[1].size(1), int64_t(4 * 12));
    COMPARE(rows[3].size(1), int64_t(112));
    // Layer 0's q/k/v input is the input RMSNorm of the real tokens' embeddings.
    auto weights = randomWeights(model.config(), 42);
    auto embedded = model.embed(ids).reshape({12, -1}).index({mask.reshape({-1}).to(torch::kBool)});
    auto expected = rmsNorm(embedded, weights->tensors["model.layers.0.input_layernorm.weight"], 1e-6);
    VERIFY(maxAbsDiff(rows[0], expected) < 1e-6);
}

TEST_CASE(projectionSlotsSwap)
{
    torch::NoGradGuard noGrad;
    auto model = makeModel("llama");
    auto ids = randomIds(1, 5, model.config().vocabSize, 6);
    auto before = model.forward(ids);
    COMPARE(int(model.linearNames().size()), 7 * 3);
    COMPARE(model.linearNames()[3], std::string("model.layers.0.self_attn.o_proj"));

    auto &slot = model.linearSlot("model.layers.1.self_attn.q_proj");
    auto counting = std::make_shared<CountingLinear>(slot);
    slot = counting;
    VERIFY(maxAbsDiff(model.forward(ids), before) == 0.0);
    COMPARE(counting->calls.load(), 1);
    COMPARE(model.layer(1).linear("self_attn.q_proj")->kind(), std::string("counting"));

    auto &down = model.linearSlot("model.layers.2.mlp.down_proj");
    down = std::make_shared<DenseLinear>(torch::zeros({48, 112}));
    VERIFY(maxAbsDiff(model.forward(ids), before) > 1e-3);

    VERIFY_THROWS(Error, model.linearSlot("model.layers.3.self_attn.q_proj"));
    VERIFY_THROWS(Error, model.linearSlot("model.layers.0.self_attn.x_proj"));
    VERIFY_THROWS(Error, model.linearSlot("model.layers.x.mlp.up_proj"));
}

TEST_CASE(streamedLayersEqualResident)
{
    torch::NoGradGuard noGrad;
    auto resident = makeModel("qwen2");
    auto streamed = makeModel("qwen2", true);
    auto ids = randomIds(2, 7, resident.config().vocabSize, 7);
    VERIFY(maxAbsDiff(resident.forward(ids), streamed.forward(ids)) == 0.0);
    VERIFY_THROWS(Error, streamed.layer(0));
    // Layer by layer by hand, as calibration runs it.
    auto hidden = streamed.embed(ids);
    auto inputs = streamed.prepareInputs(2, 7);
    for (int64_t i = 0; i < streamed.numLayers(); ++i) {
        auto layer = streamed.loadLayer(i);
        hidden = layer->forward(hidden, inputs);
    }
    VERIFY(maxAbsDiff(streamed.lmHead(streamed.finalNorm(hidden)), resident.forward(ids)) == 0.0);
}

TEST_CASE(tiedHeadAndNamedTensors)
{
    auto tied = makeModel("qwen2");
    VERIFY(tied.tiedEmbeddings());
    auto names = tied.namedTensors();
    const auto has = [&](const std::string &name) {
        return std::any_of(names.begin(), names.end(), [&](const auto &n) { return n.first == name; });
    };
    VERIFY(!has("lm_head.weight"));
    VERIFY(has("model.layers.2.self_attn.k_proj.bias"));
    VERIFY(tied.linearSlot("lm_head")->namedTensors()[0].second.is_same(names[0].second));
    auto untied = makeModel("qwen3");
    VERIFY(!untied.tiedEmbeddings());
    names = untied.namedTensors();
    VERIFY(has("lm_head.weight"));
    VERIFY(has("model.layers.0.self_attn.q_norm.weight"));
    COMPARE(int(names.size()), 1 + 3 * 11 + 1 + 1);
}

TEST_CASE(missingOrMisshapenTensorsAreNamed)
{
    auto config = smallConfig("llama");
    auto weights = randomWeights(config, 1);
    weights->tensors.erase("model.layers.1.mlp.up_proj.weight");
    try {
        CausalLM model(config, weights);
        FAIL("a missing tensor must throw");
    } catch (const Error &error) {
        VERIFY2(emloc::test::contains(error.what(), "model.layers.1.mlp.up_proj.weight"), error.what());
    }
    weights = randomWeights(config, 1);
    weights->tensors["model.layers.0.self_attn.k_proj.weight"] = torch::zeros({10, 48});
    try {
        CausalLM model(config, weights);
        FAIL("a misshapen tensor must throw");
    } catch (const Error &error) {
        VERIFY2(emloc::test::contains(error.what(), "[10, 48]"), error.what());
    }
    config.ropeScaling.type = "yarn";
    VERIFY_THROWS(Error, CausalLM(config, randomWeights(smallConfig("llama"), 1)));
    VERIFY_THROWS(Error, parseComputeDtype("bf16", torch::kCPU));
    VERIFY_THROWS(Error, parseComputeDtype("int4", torch::kCPU));
    COMPARE(parseComputeDtype("auto", torch::kCPU), torch::kFloat32);
}

TEST_CASE(greedyGenerationFollowsArgmax)
{
    torch::NoGradGuard noGrad;
    auto model = makeModel("qwen3");
    std::vector<int64_t> prompt{5, 9, 14, 3};
    GenerationOptions options;
    options.maxNewTokens = 8;
    auto result = generate(model, prompt, options);
    COMPARE(int(result.tokens.size()), 8);
    VERIFY(result.stopReason == GenerationResult::StopReason::MaxNewTokens);
    // The uncached reference: the full sequence's last logits at every step.
    std::vector<int64_t> sequence = prompt;
    for (int64_t token : result.tokens) {
        auto logits = model.forward(torch::tensor(sequence).unsqueeze(0));
        COMPARE(logits[0][-1].argmax().item<int64_t>(), token);
        sequence.push_back(token);
    }

    options.stopTokenIds = {result.tokens[2]};
    auto stopped = generate(model, prompt, options);
    VERIFY(stopped.stopReason == GenerationResult::StopReason::StopToken);
    COMPARE(stopped.tokens.back(), result.tokens[2]);
    VERIFY(stopped.tokens.size() <= 3);

    options.stopTokenIds.clear();
    std::vector<int64_t> streamed;
    auto limited = generate(model, prompt, options, [&](int64_t token) {
        streamed.push_back(token);
        return streamed.size() < 2;
    });
    VERIFY(limited.stopReason == GenerationResult::StopReason::Callback);
    COMPARE(int(streamed.size()), 2);
    VERIFY(streamed == limited.tokens);
}

// A batch of prompts of different lengths (left-padded, one cache, finished rows dropped) continues each
// prompt exactly as generate() does alone, greedy and sampled, in float64 so no rounding can flip a pick.
TEST_CASE(batchedGenerationMatchesOneByOne)
{
    auto config = smallConfig("qwen3");
    CausalLMOptions options;
    options.placement.dtype = torch::kFloat64;
    CausalLM model(config, randomWeights(config, 42), options);
    const std::vector<std::vector<int64_t>> prompts{{5, 9, 14, 3}, {7}, {4, 8, 30, 31, 32, 33, 60}, {11, 12}};
    GenerationOptions greedy;
    greedy.maxNewTokens = 9;
    std::vector<std::vector<int64_t>> alone;
    for (const auto &prompt : prompts)
        alone.push_back(generate(model, prompt, greedy).tokens);
    // A stop token that ends some rows early and not others: the dropped rows must not disturb the rest.
    greedy.stopTokenIds = {alone[1][2], alone[3][4]};
    std::vector<GenerationResult> expected;
    for (const auto &prompt : prompts)
        expected.push_back(generate(model, prompt, greedy));
    VERIFY(expected[1].stopReason == GenerationResult::StopReason::StopToken);
    const auto batched = generateBatch(model, prompts, greedy);
    COMPARE(batched.size(), prompts.size());
    int stoppedEarly = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        VERIFY2(batched[i].tokens == expected[i].tokens, emloc::test::str("prompt ", i));
        VERIFY(batched[i].stopReason == expected[i].stopReason);
        COMPARE(batched[i].promptTokens, int64_t(prompts[i].size()));
        stoppedEarly += batched[i].tokens.size() < 9 ? 1 : 0;
    }
    VERIFY(stoppedEarly >= 1 && stoppedEarly < int(prompts.size()));

    GenerationOptions sampled;
    sampled.maxNewTokens = 10;
    sampled.temperature = 1.3;
    sampled.topK = 30;
    sampled.repetitionPenalty = 1.2;
    sampled.seed = 5;
    const auto batchedSamples = generateBatch(model, prompts, sampled);
    for (size_t i = 0; i < prompts.size(); ++i)
        VERIFY(batchedSamples[i].tokens == generate(model, prompts[i], sampled).tokens);

    VERIFY(generateBatch(model, {}, greedy).empty());
    VERIFY_THROWS(Error, generateBatch(model, {{4}, {}}, greedy));
}

TEST_CASE(samplingIsSeeded)
{
    torch::NoGradGuard noGrad;
    auto model = makeModel("llama");
    GenerationOptions options;
    options.maxNewTokens = 12;
    options.temperature = 1.5;
    options.topK = 40;
    options.topP = 0.95;
    options.seed = 11;
    auto a = generate(model, {4, 8}, options).tokens;
    auto b = generate(model, {4, 8}, options).tokens;
    VERIFY(a == b);
    std::set<std::vector<int64_t>> distinct{a};
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        options.seed = seed;
        distinct.insert(generate(model, {4, 8}, options).tokens);
    }
    VERIFY(distinct.size() > 1);
    // top-k 1 is greedy whatever the temperature.
    options.topK = 1;
    GenerationOptions greedy;
    greedy.maxNewTokens = 12;
    VERIFY(generate(model, {4, 8}, options).tokens == generate(model, {4, 8}, greedy).tokens);
}

TEST_CASE(logitsProcessors)
{
    const float inf = std::numeric_limits<float>::infinity();
    auto penalised = applyRepetitionPenalty(torch::tensor({2.0f, -2.0f, 1.0f, 0.5f}), {0, 1, 1}, 2.0);
    VERIFY(torch::equal(penalised, torch::tensor({1.0f, -4.0f, 1.0f, 0.5f})));
    auto topK = applyTopK(torch::tensor({1.0f, 3.0f, 2.0f, 0.0f}), 2);
    VERIFY(torch::equal(topK, torch::tensor({-inf, 3.0f, 2.0f, -inf})));
    auto logits = torch::log(torch::tensor({0.5f, 0.3f, 0.15f, 0.05f}));
    auto topP = applyTopP(logits, 0.8);
    VERIFY(torch::equal(topP.isinf(), torch::tensor({false, false, true, true})));
    VERIFY(torch::equal(applyTopP(logits, 0.01).isinf(), torch::tensor({false, true, true, true})));
}

TEST_CASE(stopTokensFromBothConfigs)
{
    ModelFiles files;
    files.config.eosTokenIds = {2, 7};
    files.generationConfig = {{"eos_token_id", {2, 5}}};
    VERIFY((stopTokensFor(files) == std::vector<int64_t>{2, 5, 7}));
    files.generationConfig = {{"eos_token_id", 9}};
    VERIFY((stopTokensFor(files) == std::vector<int64_t>{2, 7, 9}));
}

TEST_CASE(generationCancels)
{
    auto model = makeModel("llama");
    Feedback feedback;
    feedback.cancel();
    GenerationOptions options;
    VERIFY_THROWS(CancelledError, generate(model, {4, 8}, options, {}, &feedback));
    VERIFY_THROWS(Error, generate(model, {}, options));
    VERIFY_THROWS(Error, model.forward(torch::tensor({{4, 500}})));
}
