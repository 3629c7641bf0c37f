#pragma once
// GGUF, llama.cpp's single-file model format: a strict reader (v2/v3, memory-mapped, quantized blocks
// dequantised to float32), a low-level writer (metadata + tensors) and the model-level conversions
// GGUF <-> Hugging Face folder.

#include "emloc/io/model_files.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace emloc::core {

class Feedback;

// ggml tensor types (the numbering is part of the file format).
enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
};

// "Q4_K", or "type 42" for a number this build does not know.
std::string ggmlTypeName(GgmlType type);
// Parses "F32", "f16", "Q8_0"...; Error listing the names accepted otherwise.
GgmlType parseGgmlType(const std::string &name);
// Whether this build can read (dequantise) and write tensors of this type.
bool ggmlTypeReadable(GgmlType type);
bool ggmlTypeWritable(GgmlType type);
// Elements per block and bytes per block (1 and the element size for plain types).
int64_t ggmlBlockSize(GgmlType type);
int64_t ggmlTypeSize(GgmlType type);
// Bytes that `elements` values of `type` take; Error when `elements` is not a whole number of blocks.
uint64_t ggmlByteSize(GgmlType type, int64_t elements);

// Dequantises `elements` values stored as `type` at `data` into a new 1-D float32 tensor.
// `data` must hold ggmlByteSize(type, elements) bytes. Vectorised with torch ops.
torch::Tensor dequantizeGgml(GgmlType type, const void *data, int64_t elements);

// GGUF metadata value types (numbering from the file format).
enum class GgufValueType : uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};

// One metadata value: its GGUF type (and element type for arrays) with the value as JSON (numbers,
// bool, string, or an array of those; nested arrays are arrays of arrays).
struct GgufValue
{
    GgufValueType type = GgufValueType::String;
    GgufValueType arrayType = GgufValueType::UInt8; // for Array only
    nlohmann::json value;

    static GgufValue string(const std::string &text)
    {
        return {GgufValueType::String, GgufValueType::UInt8, text};
    }
    static GgufValue uint32(uint32_t number) { return {GgufValueType::UInt32, GgufValueType::UInt8, number}; }
    static GgufValue int32(int32_t number) { return {GgufValueType::Int32, GgufValueType::UInt8, number}; }
    static GgufValue uint64(uint64_t number) { return {GgufValueType::UInt64, GgufValueType::UInt8, number}; }
    static GgufValue float32(float number) { return {GgufValueType::Float32, GgufValueType::UInt8, number}; }
    static GgufValue boolean(bool flag) { return {GgufValueType::Bool, GgufValueType::UInt8, flag}; }
    static GgufValue array(GgufValueType elementType, nlohmann::json values)
    {
        return {GgufValueType::Array, elementType, std::move(values)};
    }
};

// Where one tensor lives in a GGUF file. `dims` is in GGUF order (fastest-varying first, ggml's
// ne[]); shape() is the PyTorch shape (reversed).
struct GgufTensorInfo
{
    std::string name;
    std::vector<int64_t> dims;
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0; // relative to the data section
    uint64_t byteSize = 0;

    std::vector<int64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
    int64_t elements() const;
};

// One memory-mapped GGUF file (versions 2 and 3), validated strictly on open: magic, version, sane
// counts and string lengths, known value and tensor types, alignment, every tensor's data inside the
// file and not overlapping another. Errors name the file and the key or tensor. Tensors are read
// lazily (only their pages are touched). Thread-safe for concurrent reads.
class GgufFile
{
public:
    explicit GgufFile(const std::string &path);
    ~GgufFile();
    GgufFile(const GgufFile &) = delete;
    GgufFile &operator=(const GgufFile &) = delete;

    const std::string &path() const { return m_path; }
    uint32_t version() const { return m_version; }
    uint64_t alignment() const { return m_alignment; }
    uint64_t dataOffset() const { return m_dataOffset; }

    // Metadata in file order.
    const std::vector<std::pair<std::string, GgufValue>> &metadata() const { return m_metadata; }
    bool has(const std::string &key) const { return m_keyIndex.count(key) != 0; }
    // Error naming the file and key when missing.
    const GgufValue &value(const std::string &key) const;
    // Typed getters: Error naming the key when missing or of another kind; the *Or variants return
    // the fallback when the key is absent.
    int64_t integer(const std::string &key) const;
    int64_t integerOr(const std::string &key, int64_t fallback) const;
    double number(const std::string &key) const;
    double numberOr(const std::string &key, double fallback) const;
    std::string string(const std::string &key) const;
    std::string stringOr(const std::string &key, const std::string &fallback) const;
    bool booleanOr(const std::string &key, bool fallback) const;

    // Tensors in file order.
    const std::vector<GgufTensorInfo> &tensors() const { return m_tensors; }
    bool hasTensor(const std::string &name) const { return m_tensorIndex.count(name) != 0; }
    const GgufTensorInfo &tensorInfo(const std::string &name) const; // Error if missing
    // The stored bytes of a tensor (inside the mapping; valid while this object lives).
    const uint8_t *tensorData(const std::string &name) const;
    // Dequantised float32 tensor in PyTorch shape, owning its memory. Error names the file, the tensor
    // and the type when the type cannot be read.
    torch::Tensor tensor(const std::string &name) const;

private:
    std::string m_path;
    uint32_t m_version = 0;
    uint64_t m_alignment = 32;
    uint64_t m_dataOffset = 0;
    std::vector<std::pair<std::string, GgufValue>> m_metadata;
    std::map<std::string, size_t> m_keyIndex;
    std::vector<GgufTensorInfo> m_tensors;
    std::map<std::string, size_t> m_tensorIndex;
    const uint8_t *m_mapping = nullptr;
    size_t m_mappingSize = 0;
};

// Writes a GGUF v3 file: metadata in insertion order, then tensor infos, then the aligned data.
// Tensor data is produced on demand while writing, so a whole model never sits in memory twice.
// The file is written through AtomicFile (a failure leaves nothing at the destination).
class GgufWriter
{
public:
    explicit GgufWriter(uint64_t alignment = 32);

    // Adding a key twice replaces its value (keeping its first position).
    void set(const std::string &key, GgufValue value);
    // `shape` is the PyTorch shape; `type` one of the writable types (F32, F16, BF16, Q8_0).
    // `produce` returns a tensor of that shape (any float dtype, any device); it is called once, in
    // tensor order, during write().
    void addTensor(const std::string &name, const std::vector<int64_t> &shape, GgmlType type,
                   std::function<torch::Tensor()> produce);
    void addTensor(const std::string &name, const torch::Tensor &tensor, GgmlType type);
    size_t tensorCount() const { return m_tensors.size(); }

    // `feedback` (optional) receives progress per tensor and is polled for cancellation.
    void write(const std::string &path, Feedback *feedback = nullptr) const;

private:
    struct PendingTensor
    {
        std::string name;
        std::vector<int64_t> shape;
        GgmlType type;
        std::function<torch::Tensor()> produce;
    };
    uint64_t m_alignment;
    std::vector<std::pair<std::string, GgufValue>> m_metadata;
    std::map<std::string, size_t> m_keyIndex;
    std::vector<PendingTensor> m_tensors;
};

// Encodes float values as ggml `type` (F32, F16, BF16, Q8_0): the bytes llama.cpp reads.
std::vector<uint8_t> encodeGgml(GgmlType type, const torch::Tensor &values);

// Writes a Hugging Face model folder: config.json, model.safetensors (sharded with
// model.safetensors.index.json beyond 2 GB), tokenizer.json, tokenizer_config.json and
// generation_config.json. dtype: "float32", "float16" or "bfloat16". Everything goes to a temporary
// folder renamed into place at the end; an existing non-empty `outDir` is an Error.
void convertToHuggingFace(const ModelFiles &model, const std::string &outDir, const std::string &dtype,
                          Feedback *feedback = nullptr);

// Writes a llama.cpp-loadable GGUF (architecture "llama", or "qwen2"/"qwen3" for those models) with
// the hyperparameters, the tokenizer (tokenizer.ggml.*) and chat template, q/k rows permuted for
// llama.cpp's RoPE layout. dtype: "F32" or "F16" (norms stay F32).
void writeGgufModel(const ModelFiles &model, const std::string &outPath, const std::string &dtype,
                    Feedback *feedback = nullptr);

} // namespace emloc::core
