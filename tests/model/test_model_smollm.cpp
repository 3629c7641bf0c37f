// The real SmolLM2-135M-Instruct (GGUF, dequantised to float32) answering a chat prompt, and the CPU
// throughput of the decoder on it (printed for the README / benchmarks).
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/torch_runtime.h"

#include "unit_test.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace emloc::core;

namespace {
// The demo model, loaded once for the suite.
struct State
{
    ModelFiles files;
    std::unique_ptr<CausalLM> model;
    std::shared_ptr<Tokenizer> tokenizer;
};
State &state()
{
    static State s;
    return s;
}

} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    state().files = openModel(emloc::test::demoGgufPath());
    state().model = std::make_unique<CausalLM>(state().files);
    state().tokenizer = Tokenizer::fromJson(state().files.tokenizerJson, "demo model");
}

TEST_CASE(chatAnswerIsSensible)
{
    const std::string chatTemplate = state().files.tokenizerConfig.value("chat_template", std::string());
    VERIFY2(!chatTemplate.empty(), "the demo GGUF carries a chat template");
    const std::string text =
        JinjaTemplate(chatTemplate)
            .render({{"messages", {{{"role", "user"}, {"content", "What is the capital of France?"}}}},
                     {"add_generation_prompt", true}});
    VERIFY(text.find("<|im_start|>assistant") != std::string::npos);
    const auto prompt = state().tokenizer->encode(text, false);
    GenerationOptions options;
    options.maxNewTokens = 24;
    options.stopTokenIds = stopTokensFor(state().files);
    VERIFY(!options.stopTokenIds.empty());
    const auto result = generate(*state().model, prompt, options);
    const std::string answer = state().tokenizer->decode(result.tokens, true);
    emloc::test::info("answer: " + answer);
    VERIFY2(answer.find("Paris") != std::string::npos, answer.c_str());
}

TEST_CASE(throughput)
{
    torch::NoGradGuard noGrad;
    auto ids = torch::randint(100, 40000, {1, 512}, torch::kInt64);
    state().model->forward(ids.narrow(1, 0, 32)); // warm-up
    auto start = std::chrono::steady_clock::now();
    auto logits = state().model->forward(ids);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    VERIFY(logits.isfinite().all().item<bool>());
    emloc::test::info(emloc::test::format("forward, batch 1 x 512 tokens: %.2f s, %.0f tokens/s (%d threads)",
                                          seconds, 512 / seconds, torch::get_num_threads()));

    GenerationOptions options;
    options.maxNewTokens = 64;
    const std::vector<int64_t> prompt(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + 64);
    const auto result = generate(*state().model, prompt, options);
    COMPARE(int(result.tokens.size()), 64);
    emloc::test::info(emloc::test::format(
        "generation: prefill 64 tokens %.3f s, %.1f new tokens/s over %zu steps", result.prefillSeconds,
        (result.tokens.size() - 1) / result.decodeSeconds, result.tokens.size() - 1));
}
