#include "emulator_writer.h"

#include "emloc/api/error.h"
#include "emloc/api/stages.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include <map>
#include <memory>

namespace emloc::core {

namespace {
int64_t elementBytes(const std::string &dtype)
{
    static const std::map<std::string, int64_t> sizes{{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2},
                                                      {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
                                                      {"U8", 1},  {"BOOL", 1}};
    const auto it = sizes.find(dtype);
    if (it == sizes.end())
        throw Error("cannot assemble a tensor of dtype " + dtype);
    return it->second;
}
} // namespace

int64_t assembleSafetensors(const std::string &path, const std::vector<AssemblyEntry> &entries,
                            Feedback *feedback)
{
    std::map<std::string, std::unique_ptr<SafetensorsFile>> parts;
    auto partOf = [&](const std::string &partPath) -> const SafetensorsFile & {
        auto &file = parts[partPath];
        if (!file)
            file = std::make_unique<SafetensorsFile>(partPath);
        return *file;
    };
    // The header first: every shape is known from the parts' headers.
    nlohmann::json header = nlohmann::json::object();
    std::vector<uint64_t> sizes;
    uint64_t offset = 0;
    int64_t parameters = 0;
    for (const auto &entry : entries) {
        const TensorInfo &info = partOf(entry.partPath).info(entry.partName);
        std::vector<int64_t> shape = info.shape;
        if (entry.sliceDim >= 0) {
            if (entry.sliceDim >= static_cast<int>(shape.size()) || entry.keep > shape[entry.sliceDim])
                throw Error("cannot keep " + std::to_string(entry.keep) + " of tensor '" + entry.partName +
                            "' in " + entry.partPath);
            shape[entry.sliceDim] = entry.keep;
        }
        int64_t numel = 1;
        for (int64_t size : shape)
            numel *= size;
        parameters += numel;
        const uint64_t bytes = static_cast<uint64_t>(numel * elementBytes(info.dtype));
        header[entry.name] = {
            {"dtype", info.dtype}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
        sizes.push_back(bytes);
        offset += bytes;
    }
    header["__metadata__"] = {{"format", "pt"}};
    std::string headerText = header.dump();
    headerText.append((8 - headerText.size() % 8) % 8, ' '); // the data starts 8-byte aligned
    AtomicFile out(path);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(headerText.size()) >> (8 * i));
    out.write(length, sizeof length);
    out.write(headerText);
    for (size_t i = 0; i < entries.size(); ++i) {
        if (feedback && i % 16 == 0) {
            feedback->checkpoint();
            feedback->stageProgress(Stage::Write, static_cast<int64_t>(i),
                                    static_cast<int64_t>(entries.size()));
        }
        const auto &entry = entries[i];
        torch::Tensor tensor = partOf(entry.partPath).tensor(entry.partName);
        if (entry.sliceDim >= 0)
            tensor = tensor.narrow(entry.sliceDim, 0, entry.keep);
        tensor = tensor.contiguous();
        if (static_cast<uint64_t>(tensor.nbytes()) != sizes[i])
            throw Error("tensor '" + entry.name + "' changed size while the emulator was written");
        out.write(tensor.data_ptr(), tensor.nbytes());
    }
    out.commit();
    if (feedback)
        feedback->stageProgress(Stage::Write, static_cast<int64_t>(entries.size()),
                                static_cast<int64_t>(entries.size()));
    return parameters;
}

} // namespace emloc::core
