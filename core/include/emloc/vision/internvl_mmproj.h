#pragma once
// An InternVL model's vision tower and projector as llama.cpp's multimodal projector file ("mmproj"
// GGUF, projector type "internvl"): the keys, tensor names, squeezed shapes and types that llama.cpp's
// convert_hf_to_gguf.py --mmproj writes, so llama-mtmd-cli and llama-server run the model's images
// beside a GGUF of its language model.

#include "emloc/api/job.h"
#include "emloc/io/gguf_file.h"
#include "emloc/vision/vision_language_model.h"

#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// (internvl_weights.h name, GGUF name) of every tensor the mmproj holds, in the checkpoint's order.
// Error naming the tensor or setting llama.cpp's InternVL graph does not run (a final norm, a feature
// layer before the last, an activation other than GELU or SiLU, a norm type its shape does not imply).
std::vector<std::pair<std::string, std::string>> internVLMmprojTensorNames(const VisionLanguageFiles &model);

// Writes the mmproj GGUF atomically; matrices as `matrixType` (F32, F16 or BF16), vectors and the
// position embedding as F32, as the converter does.
void writeInternVLMmproj(const VisionLanguageFiles &model, const std::string &outPath, GgmlType matrixType,
                         Feedback *feedback = nullptr);

} // namespace emloc::core
