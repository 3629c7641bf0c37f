#pragma once
// The ways a corrected adapter leaves the program: a PEFT adapter, a merged Hugging Face model folder, a
// llama.cpp GGUF LoRA adapter, a merged GGUF model, and an Ollama folder (Modelfile, base GGUF, GGUF
// LoRA). Each is written atomically, read back and checked before the export reports success; merging is
// streamed one tensor at a time.

#include "emloc/api/job.h"
#include "emloc/api/run_choices.h"

#include <nlohmann/json.hpp>

#include <string>

namespace emloc::core {

// "peft", "merged", "gguf-lora", "gguf-merged", "ollama"; Error listing them otherwise.
ExportFormat parseExportFormat(const std::string &name);
std::string exportFormatName(ExportFormat format);

struct ExportOptions
{
    std::string modelPath;   // the ORIGINAL model (HF folder or GGUF)
    std::string adapterPath; // a PEFT adapter for it (normally the corrected one)
    ExportFormat format = ExportFormat::Peft;
    std::string outPath; // folder (peft, merged, ollama) or .gguf file (gguf-lora, gguf-merged)
    // Stored precision. merged: "auto" (the original's), float32, float16, bfloat16; gguf-merged: "auto"
    // (F32 for float32 originals, F16 otherwise), F32, F16, BF16, Q8_0; gguf-lora: "auto" (F32), F32, F16.
    std::string dtype = "auto";
    bool overwrite = false; // replace an existing output (else Error)
    // ollama: the chat template the adapter was trained with (ChatTemplate::fromModel's choice), which the
    // Modelfile's TEMPLATE reproduces, and the run's system prompt (SYSTEM; empty: the template's own).
    std::string chatTemplate = "auto";
    std::string systemPrompt;
};

struct ExportResult
{
    std::string format;
    std::string path;
    uint64_t bytes = 0;
    int64_t tensorsChecked = 0;
    double maxVerifyError = 0; // largest |read back - intended| over the checked tensors
    double seconds = 0;
    nlohmann::json toJson() const;
};

// Errors: the adapter does not fit the model (names the module and shapes), the destination exists
// (without overwrite) or is not writable, verification failed (the output is removed).
ExportResult runExport(const ExportOptions &options, Feedback *feedback = nullptr);

} // namespace emloc::core
