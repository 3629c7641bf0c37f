#pragma once
// Small models, emulators and adapters on disk for the stage-3 suites (correction, evaluation, exports).

#include "../model/model_test_util.h"

#include "emloc/io/atomic_file.h"
#include "emloc/io/model_config.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace emloc::test {

inline const std::vector<std::string> &projectionNames()
{
    static const std::vector<std::string> names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                   "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                   "mlp.down_proj"};
    return names;
}

inline std::vector<std::string> allModules(const core::ModelConfig &config)
{
    std::vector<std::string> modules;
    for (int64_t layer = 0; layer < config.numLayers; ++layer)
        for (const auto &name : projectionNames())
            modules.push_back("model.layers." + std::to_string(layer) + "." + name);
    return modules;
}

// An emulator folder as stage 1 writes it: rank-`rank` factors "<module>.weight_u" / "<module>.weight_v" of
// every projection (plain truncated SVD, enough for the correction's maths), the last layer's down_proj
// dense, the other tensors copied. rank <= 0 writes every projection dense and unchanged (W_E = W).
inline void writeEmulatorFolder(const std::string &dir, const core::ModelConfig &config,
                                const core::WeightSource &original, int64_t rank)
{
    std::filesystem::create_directories(dir);
    core::writeFileAtomically(dir + "/config.json", core::modelConfigToJson(config).dump(2));
    core::writeFileAtomically(dir + "/emulator.json", "{\"source_model\": \"test\"}\n");
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    const std::string lastDown =
        "model.layers." + std::to_string(config.numLayers - 1) + ".mlp.down_proj.weight";
    for (const auto &name : original.names()) {
        torch::Tensor w = original.tensor(name).to(torch::kFloat32);
        const bool projection = name.find("_proj.weight") != std::string::npos;
        if (rank > 0 && projection && name != lastDown) {
            auto [u, s, vh] = torch::linalg_svd(w.to(torch::kFloat64), false);
            torch::Tensor root = s.narrow(0, 0, rank).sqrt();
            const std::string module = name.substr(0, name.size() - 7);
            tensors.emplace_back(module + ".weight_u",
                                 (u.narrow(1, 0, rank) * root.unsqueeze(0)).to(torch::kFloat32).contiguous());
            tensors.emplace_back(
                module + ".weight_v",
                (root.unsqueeze(1) * vh.narrow(0, 0, rank)).to(torch::kFloat32).contiguous());
        } else {
            tensors.emplace_back(name, w.contiguous());
        }
    }
    core::writeSafetensors(dir + "/model.safetensors", tensors);
}

// A random LoRA (A and B both nonzero, as after training) for `modules` of a model.
inline core::PeftAdapter randomAdapter(const core::WeightSource &weights,
                                       const std::vector<std::string> &modules, int64_t r, double alpha,
                                       uint64_t seed, double bScale = 0.05)
{
    torch::manual_seed(seed);
    core::PeftAdapter adapter;
    adapter.config.r = r;
    adapter.config.loraAlpha = alpha;
    adapter.config.baseModelNameOrPath = "test-emulator";
    for (const auto &module : modules) {
        const auto shape = weights.shape(module + ".weight");
        adapter.modules.push_back({module, torch::randn({r, shape[1]}) / std::sqrt(double(shape[1])),
                                   bScale * torch::randn({shape[0], r})});
        adapter.config.targetModules.push_back(core::peftModuleLocalName(module));
    }
    return adapter;
}

// B A in float64 with the module's scale.
inline torch::Tensor updateOf(const core::PeftAdapter &adapter, const core::PeftLoraModule &entry)
{
    return entry.b.to(torch::kFloat64).matmul(entry.a.to(torch::kFloat64)) * adapter.scaleFor(entry.module);
}

// Logits of a model held as weights (float32).
inline torch::Tensor logitsOf(const core::ModelConfig &config, std::shared_ptr<core::WeightSource> weights,
                              const torch::Tensor &ids)
{
    torch::InferenceMode guard;
    core::CausalLM model(config, std::move(weights));
    return model.forward(ids).to(torch::kFloat32);
}

} // namespace emloc::test
