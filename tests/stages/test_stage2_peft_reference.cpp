// Our PEFT adapters loaded by Python peft onto the transformers model give our logits.
#include "emloc/io/model_files.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/util/torch_runtime.h"

#include "child_process.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace emloc;

namespace {

struct State
{
    std::unique_ptr<test::TempDir> dir;
    std::string base;
};

State &state()
{
    static State s;
    return s;
}

// A number of the script's JSON result, or `fallback` when it is missing or not a number.
double number(const nlohmann::json &json, const char *key, double fallback)
{
    if (!json.is_object() || !json.contains(key) || !json[key].is_number())
        return fallback;
    return json[key].get<double>();
}

// A whole number of the script's JSON result, or 0 when it is missing or not a whole number.
int integer(const nlohmann::json &json, const char *key)
{
    const double value = number(json, key, 0.5);
    return value == static_cast<int>(value) ? static_cast<int>(value) : 0;
}

} // namespace

SUITE_SETUP()
{
    emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    state().dir = std::make_unique<test::TempDir>();
    VERIFY(test::fileExists(state().dir->path()));
    state().base = state().dir->filePath("base");
    auto made = test::runPythonScript("stage2_peft_reference.py", {"make", state().base});
    VERIFY2(made.exitCode == 0, made.err);
}

TEST_CASE(peftLoadsOurAdapter)
{
    struct Case
    {
        const char *name;
        bool rsLora;
        std::string targets;
        int layer; // -1: all layers
        int expectedModules;
    };
    const std::vector<Case> cases = {
        {"all targets", false, "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", -1, 21},
        {"rslora q,v", true, "q_proj,v_proj", -1, 6},
        {"one layer (layer drop)", false, "q_proj,down_proj", 1, 2},
    };
    for (const Case &c : cases) {
        test::Row row(c.name);
        const bool rsLora = c.rsLora;
        const std::string &targets = c.targets;
        const int layer = c.layer;
        const int expectedModules = c.expectedModules;

        auto files = core::openModel(state().base);
        core::CausalLM model(files);
        core::LoraConfig config;
        config.rank = 4;
        config.alpha = 8;
        config.rsLora = rsLora;
        config.targets = core::parseLoraTargets(targets);
        torch::manual_seed(8);
        auto lora =
            core::attachLora(model, config, layer < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{layer});
        {
            torch::NoGradGuard noGrad;
            for (const auto &module : lora.modules)
                module.second->b().copy_(0.05 * torch::randn_like(module.second->b()));
        }
        lora.setTraining(false);
        std::string tag = std::string("adapter_") + c.name;
        std::replace(tag.begin(), tag.end(), ' ', '_');
        const std::string adapter = state().dir->filePath(tag);
        core::saveAdapter(core::extractAdapter(lora, state().base), adapter);

        auto ids = torch::randint(3, 128, {2, 11}, torch::kInt64);
        auto mask = torch::ones({2, 11}, torch::kInt64);
        mask.index_put_({1, torch::indexing::Slice(8, torch::indexing::None)}, 0); // right padding
        torch::Tensor logits;
        {
            torch::NoGradGuard noGrad;
            logits = model.forward(ids, mask);
        }
        const std::string casePath = adapter + "/case.safetensors";
        core::writeSafetensors(
            casePath, {{"input_ids", ids}, {"attention_mask", mask}, {"logits", logits.contiguous()}});
        auto checked =
            test::runPythonScript("stage2_peft_reference.py", {"check", state().base, adapter, casePath});
        VERIFY2(checked.exitCode == 0, checked.err);
        const auto json = nlohmann::json::parse(test::lastLine(checked.out), nullptr, false);
        const double diff = number(json, "max_abs_diff", -1);
        const double effect = number(json, "adapter_effect", -1);
        test::info(test::str(c.name, ": peft vs ours max |logit diff| ", diff, " (logits up to ",
                             number(json, "max_abs_logit", 0), "; the adapter moves them by ", effect, ")"));
        COMPARE(integer(json, "lora_modules"), expectedModules);
        VERIFY(diff >= 0 && diff < 1e-4);
        VERIFY(effect > 1e-2);
    }
}
