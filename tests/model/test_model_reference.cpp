// The decoder against transformers: small random llama / llama3-rope / linear-rope / mistral (sliding
// window) / qwen2 (bias) / qwen3 (q/k norm) models, tied and untied, written with save_pretrained and
// read back through openModel. Logits of a padded batch and greedy generations must agree.
#include "emloc/io/model_files.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/util/torch_runtime.h"

#include "child_process.h"
#include "unit_test.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace emloc::core;

namespace {
// Both sides compute in float32 with different operation orders; logits are O(1).
constexpr double kLogitTolerance = 1e-4;

const char *const kVariants[] = {"llama_untied",   "llama3_tied", "llama_linear_rope",
                                 "mistral_window", "qwen2_bias",  "qwen3_qknorm"};

// The fixtures the reference script wrote, made once for the suite.
struct State
{
    std::unique_ptr<emloc::test::TempDir> dir;
    nlohmann::json variants;
};
State &state()
{
    static State s;
    return s;
}

// Reports a loader error as a test failure (an exception escaping a Qt test slot aborts the suite).
bool load(const std::string &folder, ModelFiles &files, std::unique_ptr<CausalLM> &model)
{
    try {
        files = openModel(folder);
        model = std::make_unique<CausalLM>(files);
        return true;
    } catch (const std::exception &error) {
        emloc::test::info(std::string("warning: ") + error.what());
        return false;
    }
}
} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    state().dir = std::make_unique<emloc::test::TempDir>();
    VERIFY(emloc::test::fileExists(state().dir->path()));
    auto result = emloc::test::runPythonScript("model_make_fixtures.py", {state().dir->path()}, 900000);
    VERIFY2(result.exitCode == 0, result.err);
    state().variants = nlohmann::json::parse(emloc::test::lastLine(result.out));
    COMPARE(int(state().variants.size()), 6);
}

TEST_CASE(logitsMatchTransformers)
{
    for (const std::string variant : kVariants) {
        emloc::test::Row row(variant);
        torch::NoGradGuard noGrad;
        const std::string folder = state().dir->filePath(variant);
        ModelFiles files;
        std::unique_ptr<CausalLM> loaded;
        VERIFY(load(folder, files, loaded));
        CausalLM &model = *loaded;
        COMPARE(model.tiedEmbeddings(),
                emloc::test::endsWith(variant, "_tied") || emloc::test::startsWith(variant, "qwen2"));

        SafetensorsFile reference(folder + "/reference.safetensors");
        auto ids = reference.tensor("input_ids");
        auto mask = reference.tensor("attention_mask");
        auto expected = reference.tensor("logits").to(torch::kFloat64);

        auto inputs = model.prepareInputs(ids.size(0), ids.size(1), mask);
        auto real = mask.to(torch::kBool);
        VERIFY(torch::equal(inputs.positions.masked_select(real),
                            reference.tensor("positions").masked_select(real)));

        auto logits = model.forward(ids, mask).to(torch::kFloat64);
        auto diff = (logits - expected).abs().amax(-1).masked_select(real);
        const double maxDiff = diff.max().item<double>();
        const double scale = expected.abs().max().item<double>();
        char line[256];
        std::snprintf(line, sizeof line, "%s: max |logit diff| %.3g (logits up to %.3g) over %lld tokens",
                      variant.c_str(), maxDiff, scale, (long long)diff.numel());
        emloc::test::info(line);
        VERIFY2(maxDiff < kLogitTolerance, emloc::test::str(maxDiff));
    }
}

TEST_CASE(greedyMatchesTransformers)
{
    for (const std::string variant : kVariants) {
        emloc::test::Row row(variant);
        const std::string folder = state().dir->filePath(variant);
        ModelFiles files;
        std::unique_ptr<CausalLM> loaded;
        VERIFY(load(folder, files, loaded));
        CausalLM &model = *loaded;
        std::ifstream in(folder + "/greedy.json");
        const auto greedy = nlohmann::json::parse(in);
        GenerationOptions options;
        options.maxNewTokens = greedy["max_new_tokens"].get<int64_t>();
        options.stopTokenIds = stopTokensFor(files);
        VERIFY(std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(),
                         greedy["eos_token_id"].get<int64_t>()) != options.stopTokenIds.end());
        for (const auto &generation : greedy["generations"]) {
            const auto prompt = generation["prompt"].get<std::vector<int64_t>>();
            const auto expected = generation["new_tokens"].get<std::vector<int64_t>>();
            const auto result = generate(model, prompt, options);
            COMPARE(nlohmann::json(result.tokens).dump(), nlohmann::json(expected).dump());
        }
    }
}
