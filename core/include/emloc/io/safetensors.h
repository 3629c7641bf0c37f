#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// Where one tensor lives inside a .safetensors file.
struct TensorInfo
{
    std::string name;
    std::string
        dtype; // as the file spells it: "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"
    std::vector<int64_t> shape;
    uint64_t begin = 0; // byte offsets inside the data section
    uint64_t end = 0;
};

// One memory-mapped .safetensors file, validated strictly on open (header size, JSON, dtypes, shape
// against byte size, offsets inside the file, overlapping ranges). Tensors are read lazily: only
// the pages of the tensors asked for are touched. Thread-safe for concurrent reads.
class SafetensorsFile
{
public:
    // Throws Error naming the file (and the tensor) on any problem.
    explicit SafetensorsFile(const std::string &path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile &) = delete;
    SafetensorsFile &operator=(const SafetensorsFile &) = delete;

    const std::string &path() const { return m_path; }
    std::vector<std::string> names() const; // sorted
    bool contains(const std::string &name) const;
    const TensorInfo &info(const std::string &name) const; // Error if missing
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }
    // A tensor owning its memory (copied out of the mapping), in the file's dtype.
    torch::Tensor tensor(const std::string &name) const;

private:
    std::string m_path;
    std::map<std::string, TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
    const uint8_t *m_mapping = nullptr;
    size_t m_mappingSize = 0;
    size_t m_dataOffset = 0;
};

// The weights of a Hugging Face folder: a single model.safetensors or the shards listed in
// model.safetensors.index.json, opened lazily (a shard is mapped on first use).
class SafetensorsModel
{
public:
    // `path` is a folder or a single .safetensors file. Throws Error naming the missing file.
    explicit SafetensorsModel(const std::string &path);
    std::vector<std::string> names() const;
    bool contains(const std::string &name) const;
    const TensorInfo &info(const std::string &name) const;
    torch::Tensor tensor(const std::string &name) const;
    // Total bytes of all tensors as stored.
    uint64_t totalBytes() const;

private:
    const SafetensorsFile &fileFor(const std::string &name) const;
    std::string m_folder;
    std::map<std::string, std::string> m_fileOfTensor; // tensor name -> shard file name
    mutable std::map<std::string, std::unique_ptr<SafetensorsFile>> m_files;
    mutable std::mutex m_mutex;
};

// Writes tensors (contiguous copies are made as needed) with optional string metadata, atomically.
void writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace emloc::core
