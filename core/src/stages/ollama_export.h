#pragma once
// The Ollama export (export.cpp dispatches here): a folder `ollama create NAME -f Modelfile` turns into a
// model, the base model as GGUF (and a vision-language model's projector), the adapter as a GGUF LoRA, and a
// Modelfile with FROM, ADAPTER, TEMPLATE, SYSTEM (when the model's template has a default one) and PARAMETER
// stop lines.

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/stages/export.h"
#include "emloc/text/chat_template.h"
#include "emloc/vision/vision_language_model.h"

#include <string>

namespace emloc::core {

// Ollama's TEMPLATE (a Go text/template over .Messages) rendering what `chatTemplate` renders for a
// conversation and its generation prompt; `defaultSystem` gets the system message the template puts in
// when a conversation has none (empty when it puts none). Error naming the template families it writes
// (ChatML, Llama 3) when the template is none of them.
std::string ollamaTemplate(const ChatTemplate &chatTemplate, std::string &defaultSystem);

// `vision`: a vision-language model's whole checkpoint (`model` is its language model); the folder then
// also holds its vision tower as mmproj.gguf, a second FROM.
ExportResult exportOllama(const ExportOptions &options, const ModelFiles &model,
                          const VisionLanguageFiles *vision, Feedback *feedback);

} // namespace emloc::core
