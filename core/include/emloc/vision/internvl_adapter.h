#pragma once
// A LoRA adapter on an InternVL model's language model, under the names of the checkpoint the user has,
// so peft loads it onto that model: transformers' InternVLForConditionalGeneration ("-hf" layout:
// model.language_model.layers.N...) or OpenGVLab's InternVLChatModel (original layout:
// language_model.model.layers.N...). The engine itself works under the language model's own names
// (model.layers.N...; internvl_weights.h).

#include "emloc/io/peft_adapter.h"
#include "emloc/vision/internvl_config.h"
#include "emloc/vision/vision_language_model.h"

#include <string>

namespace emloc::core {

// The adapter renamed for the checkpoint. An original-layout InternLM2 language model fuses q, k and v into
// one wqkv: their LoRA becomes one LoRA on wqkv (A stacked, B in wqkv's rows, rank the sum, the scales kept
// through alpha_pattern), exactly the same deltas, and the other projections take InternLM2's names.
PeftAdapter toInternVLAdapter(PeftAdapter adapter, const InternVLConfig &config);

// Whether the stages write their adapters (corrected, refined) under the checkpoint's names. Not for a
// fused InternLM2 checkpoint: a fused LoRA read back would train at the fused rank, so its stages keep
// the language model's names and the peft export fuses.
bool stageAdaptersNamedForCheckpoint(const InternVLConfig &config);

// The adapter in `folder` as the engine applies it to `model`: under the language model's names (a
// vision-language model's may be named for its checkpoint), checked against the weights (Error naming
// `modelPath` and the module that does not fit).
PeftAdapter readStageAdapter(const std::string &folder, const StageModel &model,
                             const std::string &modelPath);

// Back to the language model's names: an adapter named for the checkpoint (or already under the
// language model's names) as the engine applies it; a LoRA on InternLM2's fused wqkv (ours, or one
// InternVL's own fine-tuning trained) becomes LoRA on q, k and v with exactly its deltas. Error names a
// module that is not the language model's (a LoRA on the vision tower, which the engine does not train).
PeftAdapter toLanguageModelAdapter(PeftAdapter adapter, const InternVLConfig &config);

// `files` with the adapter in `folder` (under either naming) merged into its language model's weights,
// as `generate --adapter` runs a text model. Errors name the folder and what does not fit.
void mergeInternVLAdapterFolder(VisionLanguageFiles &files, const std::string &folder);

// PEFT's target_modules for the renamed adapter: one regular expression PEFT matches against whole
// module names, so the vision tower's own q_proj, k_proj, ... stay without LoRA.
std::string internVLTargetModules(const PeftAdapter &renamed);

} // namespace emloc::core
