#pragma once
// PEFT LoRA adapters on disk (adapter_config.json + adapter_model.safetensors): reading, strict
// validation against a model, writing (staged and verified), and a weight source that merges an
// adapter into a model's weights on demand. The one place that knows PEFT's file layout.

#include "emloc/io/model_config.h"
#include "emloc/io/model_files.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace emloc::core {

// The fields of adapter_config.json the engine uses; `raw` keeps the file's other fields.
struct PeftAdapterConfig
{
    int64_t r = 8;
    double loraAlpha = 16;
    bool useRslora = false;
    std::vector<std::string> targetModules; // local names ("q_proj") as PEFT lists them
    std::string baseModelNameOrPath;
    std::map<std::string, int64_t> rankPattern; // PEFT's per-module overrides (key: module name suffix)
    std::map<std::string, double> alphaPattern;
    nlohmann::json raw = nlohmann::json::object();
};

// One adapted projection: full Hugging Face module name ("model.layers.3.self_attn.q_proj"),
// A [r, in] and B [out, r] as stored (float32 or the file's dtype, CPU).
struct PeftLoraModule
{
    std::string module;
    torch::Tensor a;
    torch::Tensor b;
};

struct PeftAdapter
{
    PeftAdapterConfig config;
    std::vector<PeftLoraModule> modules; // layer order, then q, k, v, o, gate, up, down

    // The scale PEFT applies to this module: alpha / r, or alpha / sqrt(r) with rsLoRA, with
    // rank_pattern / alpha_pattern honoured.
    double scaleFor(const std::string &module) const;
    const PeftLoraModule *find(const std::string &module) const;
};

// Reads a PEFT LoRA adapter folder (keys with or without PEFT's "base_model.model." prefix and with or
// without an adapter name such as ".default"). Errors name the file and the key or field that is
// missing, malformed or unsupported (another peft_type, DoRA, trained biases, modules_to_save,
// fan_in_fan_out, a module with only one of A/B, ranks that disagree).
PeftAdapter readPeftAdapter(const std::string &folder);

// Checks that every module exists in `weights` as "<module>.weight" and that A/B fit it
// (A [r, in], B [out, r]). Error names the module, the shapes, and says the adapter is for another model.
void validatePeftAdapter(const PeftAdapter &adapter, const WeightSource &weights,
                         const std::string &modelPath);

struct PeftWriteOptions
{
    bool overwrite = false; // replace an existing non-empty folder (else Error)
    torch::ScalarType dtype = torch::kFloat32;
    // Extra files (name -> content) written into the same staged folder, e.g. a report.
    std::map<std::string, std::string> extraFiles;
    // PEFT's target_modules as one regular expression over whole module names (a vision-language
    // model's, so its tower's projections of the same local names are not targeted); empty: the local
    // names of the adapter's modules.
    std::string targetModules;
};

// Writes `folder` as PEFT writes it (task_type CAUSAL_LM, peft_type LORA, the rank taken from the
// tensors, keys base_model.model.<module>.lora_A.weight / lora_B.weight) into a staging folder beside
// it, reads it back and compares every tensor, then renames it into place: a failure leaves nothing at
// `folder` (and an existing folder intact). Error when the parent is missing or unwritable.
void writePeftAdapter(const PeftAdapter &adapter, const std::string &folder,
                      const PeftWriteOptions &options = {});

// `base` with `adapter` merged into its projections: tensor("<module>.weight") returns
// W + scale B A computed in float64 and returned in W's dtype (or float32 when `dtype` is given);
// every other tensor passes through. A projection `base` stores as an emulator's factors Wu Wv stays
// factored, exactly: "<module>.weight_u" becomes [Wu | scale B] and "<module>.weight_v" [Wv ; A].
// Shares `base`; thread-safe as `base` is.
std::shared_ptr<WeightSource> mergeAdapterWeights(std::shared_ptr<WeightSource> base, PeftAdapter adapter,
                                                  torch::ScalarType dtype = torch::kFloat32);

// The model's weights with the adapter in `folder` merged in (read, validated against the model, merged
// as above): how a command runs a model with an adapter. Errors name the folder.
std::shared_ptr<WeightSource> mergeAdapterFolder(const ModelFiles &model, const std::string &folder);

// "model.layers.12.mlp.up_proj" -> 12; -1 when the name has no layer index.
int64_t peftModuleLayer(const std::string &module);
// The local projection name: "model.layers.12.mlp.up_proj" -> "up_proj".
std::string peftModuleLocalName(const std::string &module);

} // namespace emloc::core
