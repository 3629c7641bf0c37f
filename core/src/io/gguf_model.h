#pragma once
// The GGUF side of openModel(): a llama.cpp model file seen as a Hugging Face model (config, weights
// under Hugging Face names, tokenizer files rebuilt from the GGUF metadata).

#include "emloc/io/model_files.h"

#include <string>

namespace emloc::core {

ModelFiles openGgufModel(const std::string &path);

} // namespace emloc::core
