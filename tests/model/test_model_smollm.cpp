// The real SmolLM2-135M-Instruct (GGUF, dequantised to float32) answering a chat prompt, and the CPU
// throughput of the decoder on it (printed for the README / benchmarks).
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/torch_runtime.h"
#include "test_support.h"

#include <QtTest>

#include <chrono>

using namespace emloc::core;

class TestModelSmolLM : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
        m_files = openModel(emloc::test::demoGgufPath().toStdString());
        m_model = std::make_unique<CausalLM>(m_files);
        m_tokenizer = Tokenizer::fromJson(m_files.tokenizerJson, "demo model");
    }

    void chatAnswerIsSensible()
    {
        const std::string chatTemplate = m_files.tokenizerConfig.value("chat_template", std::string());
        QVERIFY2(!chatTemplate.empty(), "the demo GGUF carries a chat template");
        const std::string text =
            JinjaTemplate(chatTemplate)
                .render({{"messages", {{{"role", "user"}, {"content", "What is the capital of France?"}}}},
                         {"add_generation_prompt", true}});
        QVERIFY(text.find("<|im_start|>assistant") != std::string::npos);
        const auto prompt = m_tokenizer->encode(text, false);
        GenerationOptions options;
        options.maxNewTokens = 24;
        options.stopTokenIds = stopTokensFor(m_files);
        QVERIFY(!options.stopTokenIds.empty());
        const auto result = generate(*m_model, prompt, options);
        const std::string answer = m_tokenizer->decode(result.tokens, true);
        qInfo("answer: %s", answer.c_str());
        QVERIFY2(answer.find("Paris") != std::string::npos, answer.c_str());
    }

    void throughput()
    {
        torch::NoGradGuard noGrad;
        auto ids = torch::randint(100, 40000, {1, 512}, torch::kInt64);
        m_model->forward(ids.narrow(1, 0, 32)); // warm-up
        auto start = std::chrono::steady_clock::now();
        auto logits = m_model->forward(ids);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        QVERIFY(logits.isfinite().all().item<bool>());
        qInfo("forward, batch 1 x 512 tokens: %.2f s, %.0f tokens/s (%d threads)", seconds, 512 / seconds,
              torch::get_num_threads());

        GenerationOptions options;
        options.maxNewTokens = 64;
        const std::vector<int64_t> prompt(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + 64);
        const auto result = generate(*m_model, prompt, options);
        QCOMPARE(int(result.tokens.size()), 64);
        qInfo("generation: prefill 64 tokens %.3f s, %.1f new tokens/s over %zu steps", result.prefillSeconds,
              (result.tokens.size() - 1) / result.decodeSeconds, result.tokens.size() - 1);
    }

private:
    ModelFiles m_files;
    std::unique_ptr<CausalLM> m_model;
    std::shared_ptr<Tokenizer> m_tokenizer;
};

QTEST_GUILESS_MAIN(TestModelSmolLM)
#include "test_model_smollm.moc"
