#pragma once

#include "emloc/model/lora_linear.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// A LoRA adapter as PEFT stores it: the config and A/B (float32, CPU) by full module name.
struct LoraAdapter
{
    LoraConfig config;
    std::string baseModel;                                                  // base_model_name_or_path
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> modules; // name -> {A [r,in], B [out,r]}

    std::vector<int64_t> layers() const;
};

// A copy of the attached modules' weights (float32 on the CPU).
LoraAdapter extractAdapter(const LoraAttachment &attachment, const std::string &baseModel);
// Copies A and B into the attached modules; Error names a module that is missing on either side or whose
// shapes differ.
void loadAdapterInto(const LoraAdapter &adapter, const LoraAttachment &attachment);
// Renames decoder layer indices (layer-drop emulators train on renumbered layers); a layer missing from
// `layerMap` is an Error.
LoraAdapter renumberLayers(const LoraAdapter &adapter, const std::map<int64_t, int64_t> &layerMap);

// Writes adapter_config.json (peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, lora_dropout,
// target_modules, base_model_name_or_path, use_rslora; layers_to_transform when only some layers carry
// LoRA) and adapter_model.safetensors (keys base_model.model.<module>.lora_A.weight / lora_B.weight) in
// `folder` (created when missing), each file atomically.
void saveAdapter(const LoraAdapter &adapter, const std::string &folder);
// Reads a PEFT LoRA adapter folder; Error names the file and the field that is missing or unsupported
// (another peft_type, bias training, modules_to_save, fan_in_fan_out).
LoraAdapter loadAdapter(const std::string &folder);

} // namespace emloc::core
