// GGUF v3 writer: header, metadata, tensor table, then tensor data, each piece aligned.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/gguf_file.h"

#include <cstring>

namespace emloc::core {

namespace {

class ByteBuffer
{
public:
    template <typename T> void put(T value)
    {
        const auto *bytes = reinterpret_cast<const uint8_t *>(&value);
        m_bytes.insert(m_bytes.end(), bytes, bytes + sizeof(T));
    }
    void putString(const std::string &text)
    {
        put<uint64_t>(text.size());
        m_bytes.insert(m_bytes.end(), text.begin(), text.end());
    }
    void padTo(uint64_t alignment)
    {
        while (m_bytes.size() % alignment != 0)
            m_bytes.push_back(0);
    }
    const std::vector<uint8_t> &bytes() const { return m_bytes; }

private:
    std::vector<uint8_t> m_bytes;
};

void putScalar(ByteBuffer &out, GgufValueType type, const nlohmann::json &value, const std::string &key)
{
    try {
        switch (type) {
        case GgufValueType::UInt8:
            out.put<uint8_t>(value.get<uint8_t>());
            return;
        case GgufValueType::Int8:
            out.put<int8_t>(value.get<int8_t>());
            return;
        case GgufValueType::UInt16:
            out.put<uint16_t>(value.get<uint16_t>());
            return;
        case GgufValueType::Int16:
            out.put<int16_t>(value.get<int16_t>());
            return;
        case GgufValueType::UInt32:
            out.put<uint32_t>(value.get<uint32_t>());
            return;
        case GgufValueType::Int32:
            out.put<int32_t>(value.get<int32_t>());
            return;
        case GgufValueType::Float32:
            out.put<float>(value.get<float>());
            return;
        case GgufValueType::Bool:
            out.put<uint8_t>(value.get<bool>() ? 1 : 0);
            return;
        case GgufValueType::String:
            out.putString(value.get<std::string>());
            return;
        case GgufValueType::UInt64:
            out.put<uint64_t>(value.get<uint64_t>());
            return;
        case GgufValueType::Int64:
            out.put<int64_t>(value.get<int64_t>());
            return;
        case GgufValueType::Float64:
            out.put<double>(value.get<double>());
            return;
        case GgufValueType::Array:
            break;
        }
    } catch (const nlohmann::json::exception &e) {
        throw Error("GGUF metadata '" + key + "': value " + value.dump().substr(0, 80) +
                    " does not match its type: " + e.what());
    }
    throw Error("GGUF metadata '" + key + "': nested value type mismatch");
}

void putValue(ByteBuffer &out, const GgufValue &value, const std::string &key)
{
    if (value.type != GgufValueType::Array) {
        putScalar(out, value.type, value.value, key);
        return;
    }
    if (!value.value.is_array())
        throw Error("GGUF metadata '" + key + "' is declared an array but holds " + value.value.type_name());
    out.put<uint32_t>(static_cast<uint32_t>(value.arrayType));
    out.put<uint64_t>(value.value.size());
    for (const auto &item : value.value) {
        if (value.arrayType == GgufValueType::Array) {
            // Nested arrays carry no declared element type here: infer it from the JSON.
            GgufValue nested{GgufValueType::Array, GgufValueType::String, item};
            if (!item.empty() && item[0].is_number_float())
                nested.arrayType = GgufValueType::Float32;
            else if (!item.empty() && item[0].is_number())
                nested.arrayType = GgufValueType::Int32;
            putValue(out, nested, key);
        } else {
            putScalar(out, value.arrayType, item, key);
        }
    }
}

} // namespace

GgufWriter::GgufWriter(uint64_t alignment) : m_alignment(alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        throw Error("GGUF alignment must be a power of two, got " + std::to_string(alignment));
    if (alignment != 32)
        set("general.alignment", GgufValue::uint32(static_cast<uint32_t>(alignment)));
}

void GgufWriter::set(const std::string &key, GgufValue value)
{
    auto it = m_keyIndex.find(key);
    if (it != m_keyIndex.end()) {
        m_metadata[it->second].second = std::move(value);
        return;
    }
    m_keyIndex[key] = m_metadata.size();
    m_metadata.emplace_back(key, std::move(value));
}

void GgufWriter::addTensor(const std::string &name, const std::vector<int64_t> &shape, GgmlType type,
                           std::function<torch::Tensor()> produce)
{
    if (!ggmlTypeWritable(type))
        throw Error("GGUF tensor '" + name + "': writing " + ggmlTypeName(type) +
                    " is not supported (use F32, F16, BF16 or Q8_0)");
    if (shape.empty() || shape.size() > 4)
        throw Error("GGUF tensor '" + name + "' has " + std::to_string(shape.size()) +
                    " dimensions (1 to 4 allowed)");
    if (shape.back() % ggmlBlockSize(type) != 0)
        throw Error("GGUF tensor '" + name + "': its last dimension " + std::to_string(shape.back()) +
                    " is not a multiple of the " + ggmlTypeName(type) + " block size");
    for (const auto &tensor : m_tensors)
        if (tensor.name == name)
            throw Error("GGUF tensor '" + name + "' added twice");
    m_tensors.push_back({name, shape, type, std::move(produce)});
}

void GgufWriter::addTensor(const std::string &name, const torch::Tensor &tensor, GgmlType type)
{
    addTensor(name, tensor.sizes().vec(), type, [tensor] { return tensor; });
}

void GgufWriter::write(const std::string &path, Feedback *feedback) const
{
    ByteBuffer header;
    header.put<uint32_t>(0x46554747); // "GGUF" little-endian
    header.put<uint32_t>(3);
    header.put<uint64_t>(m_tensors.size());
    header.put<uint64_t>(m_metadata.size());
    for (const auto &[key, value] : m_metadata) {
        header.putString(key);
        header.put<uint32_t>(static_cast<uint32_t>(value.type));
        putValue(header, value, key);
    }
    std::vector<uint64_t> sizes;
    uint64_t offset = 0;
    for (const auto &tensor : m_tensors) {
        int64_t elements = 1;
        for (int64_t d : tensor.shape)
            elements *= d;
        sizes.push_back(ggmlByteSize(tensor.type, elements));
        header.putString(tensor.name);
        header.put<uint32_t>(static_cast<uint32_t>(tensor.shape.size()));
        for (auto it = tensor.shape.rbegin(); it != tensor.shape.rend(); ++it)
            header.put<uint64_t>(static_cast<uint64_t>(*it));
        header.put<uint32_t>(static_cast<uint32_t>(tensor.type));
        header.put<uint64_t>(offset);
        offset += (sizes.back() + m_alignment - 1) / m_alignment * m_alignment;
    }
    header.padTo(m_alignment);

    AtomicFile file(path);
    file.write(header.bytes().data(), header.bytes().size());
    static const std::vector<uint8_t> zeros(4096, 0);
    for (size_t i = 0; i < m_tensors.size(); ++i) {
        const auto &tensor = m_tensors[i];
        if (feedback) {
            feedback->checkpoint();
            feedback->progress("write GGUF", static_cast<int64_t>(i), static_cast<int64_t>(m_tensors.size()));
        }
        torch::Tensor values = tensor.produce();
        if (values.sizes().vec() != tensor.shape)
            throw Error("GGUF tensor '" + tensor.name + "': produced shape " + c10::str(values.sizes()) +
                        " differs from the declared " + c10::str(c10::IntArrayRef(tensor.shape)));
        std::vector<uint8_t> bytes = encodeGgml(tensor.type, values);
        if (bytes.size() != sizes[i])
            throw Error("GGUF tensor '" + tensor.name + "': encoded size mismatch");
        file.write(bytes.data(), bytes.size());
        uint64_t padding = (m_alignment - bytes.size() % m_alignment) % m_alignment;
        while (padding > 0) {
            uint64_t chunk = std::min<uint64_t>(padding, zeros.size());
            file.write(zeros.data(), chunk);
            padding -= chunk;
        }
    }
    if (feedback)
        feedback->progress("write GGUF", static_cast<int64_t>(m_tensors.size()),
                           static_cast<int64_t>(m_tensors.size()));
    file.commit();
}

} // namespace emloc::core
