#include "emloc/io/safetensors_folder.h"

#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace emloc::core {

namespace {

constexpr uint64_t kShardBytes =
    2ull << 30; // shards of at most 2 GiB, as transformers' default 5 GB would be unwieldy

std::string shardName(size_t index, size_t count)
{
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return name;
}

} // namespace

void writeSafetensorsFolder(const std::string &folder, const SafetensorsFolderInput &input,
                            Feedback *feedback)
{
    // The shard plan from the shapes alone.
    std::vector<std::vector<std::string>> shards(1);
    uint64_t shardBytes = 0, totalBytes = 0;
    for (const auto &name : input.names) {
        const uint64_t bytes = input.bytesOf(name);
        if (shardBytes > 0 && shardBytes + bytes > kShardBytes) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(name);
        shardBytes += bytes;
        totalBytes += bytes;
    }
    const auto total = static_cast<int64_t>(input.names.size());
    nlohmann::json weightMap = nlohmann::json::object();
    int64_t done = 0;
    for (size_t s = 0; s < shards.size(); ++s) {
        const std::string fileName = shards.size() == 1 ? "model.safetensors" : shardName(s, shards.size());
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto &name : shards[s]) {
            if (feedback) {
                feedback->checkpoint();
                feedback->progress("convert", done, total);
            }
            tensors.emplace_back(name, input.tensorOf(name).contiguous());
            weightMap[name] = fileName;
            ++done;
        }
        writeSafetensors((std::filesystem::path(folder) / fileName).string(), tensors, {{"format", "pt"}});
    }
    if (shards.size() > 1) {
        nlohmann::json index = {{"metadata", {{"total_size", totalBytes}}}, {"weight_map", weightMap}};
        writeFileAtomically((std::filesystem::path(folder) / "model.safetensors.index.json").string(),
                            index.dump(2) + "\n");
    }
}

} // namespace emloc::core
