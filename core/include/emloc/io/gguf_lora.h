#pragma once
// LoRA adapters as llama.cpp loads them (llama_adapter_lora_init, `--lora`): a GGUF with
// general.type = adapter, adapter.type = lora, adapter.lora.alpha and, per adapted projection,
// blk.N.<tensor>.weight.lora_a (A [r, in], GGUF dims [in, r]) and .lora_b (B [out, r], GGUF dims
// [r, out]), B's rows of Llama q/k projections permuted as convert_lora_to_gguf.py does.

#include "emloc/io/gguf_file.h"
#include "emloc/io/model_config.h"
#include "emloc/io/peft_adapter.h"

#include <string>

namespace emloc::core {

class Feedback;

// Writes `adapter` for a model of `config` (atomically), then reads the file back and compares it with
// what was meant (exact for F32, to the type's rounding otherwise); Error on any mismatch. Each module's
// scale is folded into lora_b so that llama.cpp's alpha / rank gives the adapter's own scale.
// type: F32 or F16 (BF16 and Q8_0 are accepted but llama.cpp recommends float adapters).
void writeGgufLora(const PeftAdapter &adapter, const ModelConfig &config, const std::string &path,
                   GgmlType type = GgmlType::F32, Feedback *feedback = nullptr);

// Reads a GGUF LoRA adapter back into Hugging Face layout (B's q/k rows unpermuted), scale alpha / r.
// Error names the file and what is not a LoRA adapter for this kind of model.
PeftAdapter readGgufLora(const std::string &path, const ModelConfig &config);

} // namespace emloc::core
