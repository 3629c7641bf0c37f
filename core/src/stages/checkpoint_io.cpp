#include "checkpoint_io.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include <filesystem>

namespace emloc::core {

namespace fs = std::filesystem;

namespace {
const char *kStateFile = "trainer_state.json";
const char *kTensorFile = "trainer_state.safetensors";

void removeAll(const fs::path &path)
{
    std::error_code error;
    fs::remove_all(path, error);
    if (error)
        throw Error("cannot remove " + path.string() + ": " + error.message());
}

bool isComplete(const fs::path &folder)
{
    return fs::exists(folder / kStateFile) && fs::exists(folder / kTensorFile) &&
           fs::exists(folder / "adapter_model.safetensors") && fs::exists(folder / "adapter_config.json");
}
} // namespace

std::string checkpointFolder(const std::string &outputDir)
{
    return (fs::path(outputDir) / "checkpoint").string();
}

void writeTrainingCheckpoint(const std::string &outputDir, const TrainingCheckpoint &checkpoint)
{
    const fs::path target = checkpointFolder(outputDir);
    const fs::path partial = target.string() + ".partial";
    const fs::path previous = target.string() + ".previous";
    removeAll(partial);
    try {
        saveAdapter(checkpoint.adapter, partial.string());
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto &[name, tensor] : checkpoint.optimizer)
            tensors.emplace_back("optimizer." + name, tensor.detach().to(torch::kCPU));
        for (const auto &[name, tensor] : checkpoint.rngStates)
            tensors.emplace_back(name, tensor.to(torch::kCPU));
        writeSafetensors((partial / kTensorFile).string(), tensors);
        // The state file last: its presence marks the folder complete.
        writeFileAtomically((partial / kStateFile).string(), checkpoint.state.dump(2) + "\n");
    } catch (...) {
        // A failed write (a full disk) leaves no half checkpoint behind; the write's error is the one to
        // report.
        std::error_code ignored;
        fs::remove_all(partial, ignored);
        throw;
    }

    std::error_code error;
    if (fs::exists(target)) {
        removeAll(previous);
        fs::rename(target, previous, error);
        if (error)
            throw Error("cannot move the previous checkpoint " + target.string() +
                        " aside: " + error.message());
    }
    fs::rename(partial, target, error);
    if (error)
        throw Error("cannot put the checkpoint in place at " + target.string() + ": " + error.message());
    removeAll(previous);
}

std::optional<TrainingCheckpoint> readTrainingCheckpoint(const std::string &outputDir)
{
    const fs::path target = checkpointFolder(outputDir);
    const fs::path previous = target.string() + ".previous";
    fs::path folder;
    if (isComplete(target))
        folder = target;
    else if (isComplete(previous)) // a crash between the two renames
        folder = previous;
    else
        return std::nullopt;

    TrainingCheckpoint checkpoint;
    checkpoint.adapter = loadAdapter(folder.string());
    const std::string statePath = (folder / kStateFile).string();
    try {
        checkpoint.state = nlohmann::json::parse(readTextFile(statePath));
    } catch (const nlohmann::json::exception &e) {
        throw Error(statePath + " is not valid JSON (" + e.what() +
                    "); delete the checkpoint folder to start over");
    }
    SafetensorsFile tensors((folder / kTensorFile).string());
    const std::string optimizerPrefix = "optimizer.";
    for (const auto &name : tensors.names()) {
        if (name.rfind(optimizerPrefix, 0) == 0)
            checkpoint.optimizer.emplace_back(name.substr(optimizerPrefix.size()), tensors.tensor(name));
        else
            checkpoint.rngStates.emplace_back(name, tensors.tensor(name));
    }
    return checkpoint;
}

} // namespace emloc::core
