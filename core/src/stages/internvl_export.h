#pragma once
// Exports of an adapter on an InternVL model's language model (export.cpp dispatches here).

#include "emloc/api/job.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/stages/export.h"
#include "emloc/vision/vision_language_model.h"

namespace emloc::core {

// The merged model in the checkpoint's own layout (either InternVL layout, so the model's own loader and
// transformers read it as they read the source): every tensor of the source folder, the adapted language
// projections replaced by W + s B A in their stored dtype, the folder's other files (config, tokenizer,
// preprocessor, chat template, remote code) copied. `adapter` is under the language model's names.
// Read back and compared before it is published.
ExportResult exportMergedInternVL(const ExportOptions &options, const VisionLanguageFiles &model,
                                  const PeftAdapter &adapter, Feedback *feedback);

} // namespace emloc::core
