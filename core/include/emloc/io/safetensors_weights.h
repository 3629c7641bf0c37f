#pragma once
// A safetensors model folder's weights as a WeightSource, for readers of checkpoints that openModel()
// does not read as a whole (a vision-language model's folder). Every tensor is checked for NaN and Inf
// on read, as openModel's are.

#include "emloc/io/model_files.h"

#include <memory>
#include <string>

namespace emloc::core {

// The folder's model.safetensors or sharded files with their index. Error names the folder and the file.
std::shared_ptr<WeightSource> openSafetensorsWeights(const std::string &folder);

// An optional JSON object file of a model folder: {} when absent; Error naming the file when malformed.
nlohmann::json optionalFolderJson(const std::string &folder, const char *fileName);

} // namespace emloc::core
