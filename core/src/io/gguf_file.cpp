// GGUF reader: the header, metadata and tensor table are parsed eagerly and validated; tensor data
// stays in the read-only mapping until asked for.
#include "emloc/io/gguf_file.h"
#include "emloc/api/error.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace emloc::core {

namespace {

constexpr uint32_t kMaxDims = 4;           // GGML_MAX_DIMS
constexpr uint64_t kMaxCount = 1ull << 24; // far above any real model's tensor or key count
constexpr int kMaxArrayNesting = 4;

// Bounds-checked little-endian cursor over the mapping; every overrun names what was being read.
class Cursor
{
public:
    Cursor(const uint8_t *data, size_t size, const std::string &path)
        : m_data(data), m_size(size), m_path(path)
    {}

    size_t position() const { return m_position; }
    size_t remaining() const { return m_size - m_position; }

    void need(uint64_t bytes, const std::string &what) const
    {
        if (bytes > remaining())
            throw Error("GGUF file '" + m_path + "' is truncated or corrupt: " + what + " needs " +
                        std::to_string(bytes) + " bytes at offset " + std::to_string(m_position) +
                        " but only " + std::to_string(remaining()) +
                        " remain. Download or export the file again.");
    }

    template <typename T> T read(const std::string &what)
    {
        need(sizeof(T), what);
        T value;
        std::memcpy(&value, m_data + m_position, sizeof(T));
        m_position += sizeof(T);
        return value;
    }

    std::string readString(const std::string &what)
    {
        uint64_t length = read<uint64_t>(what + " (string length)");
        need(length, what);
        std::string text(reinterpret_cast<const char *>(m_data + m_position), length);
        m_position += length;
        return text;
    }

private:
    const uint8_t *m_data;
    size_t m_size;
    const std::string &m_path;
    size_t m_position = 0;
};

bool knownValueType(uint32_t type)
{
    return type <= static_cast<uint32_t>(GgufValueType::Float64);
}

const char *valueTypeName(GgufValueType type)
{
    switch (type) {
    case GgufValueType::UInt8:
        return "uint8";
    case GgufValueType::Int8:
        return "int8";
    case GgufValueType::UInt16:
        return "uint16";
    case GgufValueType::Int16:
        return "int16";
    case GgufValueType::UInt32:
        return "uint32";
    case GgufValueType::Int32:
        return "int32";
    case GgufValueType::Float32:
        return "float32";
    case GgufValueType::Bool:
        return "bool";
    case GgufValueType::String:
        return "string";
    case GgufValueType::Array:
        return "array";
    case GgufValueType::UInt64:
        return "uint64";
    case GgufValueType::Int64:
        return "int64";
    case GgufValueType::Float64:
        return "float64";
    }
    return "unknown";
}

nlohmann::json readScalar(Cursor &cursor, GgufValueType type, const std::string &what)
{
    switch (type) {
    case GgufValueType::UInt8:
        return cursor.read<uint8_t>(what);
    case GgufValueType::Int8:
        return cursor.read<int8_t>(what);
    case GgufValueType::UInt16:
        return cursor.read<uint16_t>(what);
    case GgufValueType::Int16:
        return cursor.read<int16_t>(what);
    case GgufValueType::UInt32:
        return cursor.read<uint32_t>(what);
    case GgufValueType::Int32:
        return cursor.read<int32_t>(what);
    case GgufValueType::Float32:
        return cursor.read<float>(what);
    case GgufValueType::Bool: {
        uint8_t flag = cursor.read<uint8_t>(what);
        if (flag > 1)
            throw Error(what + ": bool value " + std::to_string(flag) + " is neither 0 nor 1");
        return flag == 1;
    }
    case GgufValueType::String:
        return cursor.readString(what);
    case GgufValueType::UInt64:
        return cursor.read<uint64_t>(what);
    case GgufValueType::Int64:
        return cursor.read<int64_t>(what);
    case GgufValueType::Float64:
        return cursor.read<double>(what);
    case GgufValueType::Array:
        break;
    }
    throw Error(what + ": unexpected value type");
}

uint64_t minimumElementBytes(GgufValueType type)
{
    switch (type) {
    case GgufValueType::UInt8:
    case GgufValueType::Int8:
    case GgufValueType::Bool:
        return 1;
    case GgufValueType::UInt16:
    case GgufValueType::Int16:
        return 2;
    case GgufValueType::UInt32:
    case GgufValueType::Int32:
    case GgufValueType::Float32:
        return 4;
    case GgufValueType::String: // the length prefix
    case GgufValueType::UInt64:
    case GgufValueType::Int64:
    case GgufValueType::Float64:
        return 8;
    case GgufValueType::Array:
        return 12; // element type + count
    }
    return 1;
}

GgufValue readValue(Cursor &cursor, GgufValueType type, const std::string &what, int depth)
{
    GgufValue value;
    value.type = type;
    if (type != GgufValueType::Array) {
        value.value = readScalar(cursor, type, what);
        return value;
    }
    if (depth >= kMaxArrayNesting)
        throw Error(what + ": arrays nested deeper than " + std::to_string(kMaxArrayNesting));
    uint32_t elementType = cursor.read<uint32_t>(what + " (array element type)");
    if (!knownValueType(elementType))
        throw Error(what + ": unknown array element type " + std::to_string(elementType));
    value.arrayType = static_cast<GgufValueType>(elementType);
    uint64_t count = cursor.read<uint64_t>(what + " (array length)");
    // Checked before allocating: a corrupt length must not ask for terabytes.
    if (count > cursor.remaining() / minimumElementBytes(value.arrayType))
        throw Error(what + ": array length " + std::to_string(count) + " does not fit in the file");
    value.value = nlohmann::json::array();
    auto &items = value.value.get_ref<nlohmann::json::array_t &>();
    items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        if (value.arrayType == GgufValueType::Array)
            items.push_back(readValue(cursor, GgufValueType::Array, what, depth + 1).value);
        else
            items.push_back(readScalar(cursor, value.arrayType, what));
    }
    return value;
}

} // namespace

int64_t GgufTensorInfo::elements() const
{
    int64_t count = 1;
    for (int64_t d : dims)
        count *= d;
    return count;
}

GgufFile::GgufFile(const std::string &path) : m_path(path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error("Cannot open GGUF file '" + path + "': " + std::strerror(errno) + ". Check the path.");
    struct stat info
    {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        throw Error("'" + path + "' is not a regular file; give the path of a .gguf file.");
    }
    m_mappingSize = static_cast<size_t>(info.st_size);
    if (m_mappingSize < 24) {
        ::close(fd);
        throw Error("GGUF file '" + path + "' is too short (" + std::to_string(m_mappingSize) +
                    " bytes) to be a GGUF model. Download or export it again.");
    }
    void *mapping = ::mmap(nullptr, m_mappingSize, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapping == MAP_FAILED)
        throw Error("Cannot memory-map GGUF file '" + path + "': " + std::strerror(errno));
    m_mapping = static_cast<const uint8_t *>(mapping);

    try {
        Cursor cursor(m_mapping, m_mappingSize, m_path);
        const std::string where = "GGUF file '" + path + "'";
        if (std::memcmp(m_mapping, "GGUF", 4) != 0)
            throw Error(where +
                        " does not start with the GGUF magic: it is not a GGUF file (or is damaged).");
        cursor.read<uint32_t>("magic");
        m_version = cursor.read<uint32_t>("version");
        if (m_version == 1)
            throw Error(where +
                        " is GGUF version 1, which is obsolete; convert it again with a recent llama.cpp.");
        if (m_version != 2 && m_version != 3) {
            bool bigEndian = (m_version & 0xffff) == 0 && (m_version >> 16) != 0;
            throw Error(where + " has GGUF version " + std::to_string(m_version) +
                        (bigEndian ? " (a big-endian file, not supported)" : "") +
                        "; versions 2 and 3 are supported.");
        }
        uint64_t tensorCount = cursor.read<uint64_t>("tensor count");
        uint64_t keyCount = cursor.read<uint64_t>("metadata count");
        if (tensorCount > kMaxCount || keyCount > kMaxCount)
            throw Error(where + " claims " + std::to_string(tensorCount) + " tensors and " +
                        std::to_string(keyCount) + " metadata keys: the header is corrupt.");

        m_metadata.reserve(keyCount);
        for (uint64_t i = 0; i < keyCount; ++i) {
            std::string key = cursor.readString(where + ": metadata key #" + std::to_string(i));
            const std::string what = where + ": metadata '" + key + "'";
            uint32_t type = cursor.read<uint32_t>(what + " (type)");
            if (!knownValueType(type))
                throw Error(what + " has unknown value type " + std::to_string(type));
            if (m_keyIndex.count(key))
                throw Error(what + " appears twice");
            m_keyIndex[key] = m_metadata.size();
            m_metadata.emplace_back(key, readValue(cursor, static_cast<GgufValueType>(type), what, 0));
        }

        if (has("general.alignment")) {
            const GgufValue &alignment = value("general.alignment");
            if (alignment.type != GgufValueType::UInt32)
                throw Error(where + ": general.alignment must be uint32, not " +
                            valueTypeName(alignment.type));
            m_alignment = alignment.value.get<uint64_t>();
            if (m_alignment == 0 || (m_alignment & (m_alignment - 1)) != 0)
                throw Error(where + ": general.alignment " + std::to_string(m_alignment) +
                            " is not a power of two");
        }

        m_tensors.reserve(tensorCount);
        for (uint64_t i = 0; i < tensorCount; ++i) {
            GgufTensorInfo tensor;
            tensor.name = cursor.readString(where + ": tensor #" + std::to_string(i) + " name");
            const std::string what = where + ": tensor '" + tensor.name + "'";
            uint32_t dimCount = cursor.read<uint32_t>(what + " (dimension count)");
            if (dimCount == 0 || dimCount > kMaxDims)
                throw Error(what + " has " + std::to_string(dimCount) + " dimensions (1 to 4 allowed)");
            int64_t elements = 1;
            for (uint32_t d = 0; d < dimCount; ++d) {
                uint64_t extent = cursor.read<uint64_t>(what + " (dimension)");
                if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
                    (extent != 0 && static_cast<uint64_t>(elements) >
                                        static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / extent))
                    throw Error(what + " has an impossible dimension " + std::to_string(extent));
                tensor.dims.push_back(static_cast<int64_t>(extent));
                elements *= static_cast<int64_t>(extent);
            }
            uint32_t type = cursor.read<uint32_t>(what + " (type)");
            tensor.type = static_cast<GgmlType>(type);
            if (ggmlBlockSize(tensor.type) == 0)
                throw Error(what + " has unknown ggml type " + std::to_string(type) +
                            "; this file needs a newer reader.");
            if (tensor.dims[0] % ggmlBlockSize(tensor.type) != 0)
                throw Error(what + ": its first dimension " + std::to_string(tensor.dims[0]) +
                            " is not a multiple of the " + ggmlTypeName(tensor.type) + " block size " +
                            std::to_string(ggmlBlockSize(tensor.type)));
            tensor.byteSize = ggmlByteSize(tensor.type, elements);
            tensor.offset = cursor.read<uint64_t>(what + " (offset)");
            if (tensor.offset % m_alignment != 0)
                throw Error(what + " starts at offset " + std::to_string(tensor.offset) +
                            ", not a multiple of the alignment " + std::to_string(m_alignment));
            if (m_tensorIndex.count(tensor.name))
                throw Error(what + " appears twice");
            m_tensorIndex[tensor.name] = m_tensors.size();
            m_tensors.push_back(std::move(tensor));
        }

        m_dataOffset = (cursor.position() + m_alignment - 1) / m_alignment * m_alignment;
        const uint64_t dataBytes = m_mappingSize >= m_dataOffset ? m_mappingSize - m_dataOffset : 0;
        if (m_dataOffset > m_mappingSize && !m_tensors.empty())
            throw Error(where + " is truncated: the tensor data section is missing.");
        std::vector<const GgufTensorInfo *> byOffset;
        for (const auto &tensor : m_tensors) {
            if (tensor.offset > dataBytes || tensor.byteSize > dataBytes - tensor.offset)
                throw Error(
                    where + ": the data of tensor '" + tensor.name + "' (" + std::to_string(tensor.byteSize) +
                    " bytes at data offset " + std::to_string(tensor.offset) +
                    ") lies beyond the end of the file: the file is truncated. Download or export it again.");
            byOffset.push_back(&tensor);
        }
        std::sort(byOffset.begin(), byOffset.end(),
                  [](const GgufTensorInfo *a, const GgufTensorInfo *b) { return a->offset < b->offset; });
        for (size_t i = 1; i < byOffset.size(); ++i)
            if (byOffset[i - 1]->offset + byOffset[i - 1]->byteSize > byOffset[i]->offset)
                throw Error(where + ": the data of tensors '" + byOffset[i - 1]->name + "' and '" +
                            byOffset[i]->name + "' overlap: the file is corrupt.");
    } catch (...) {
        ::munmap(const_cast<uint8_t *>(m_mapping), m_mappingSize);
        m_mapping = nullptr;
        throw;
    }
}

GgufFile::~GgufFile()
{
    if (m_mapping)
        ::munmap(const_cast<uint8_t *>(m_mapping), m_mappingSize);
}

const GgufValue &GgufFile::value(const std::string &key) const
{
    auto it = m_keyIndex.find(key);
    if (it == m_keyIndex.end())
        throw Error("GGUF file '" + m_path + "' has no metadata key '" + key + "'");
    return m_metadata[it->second].second;
}

int64_t GgufFile::integer(const std::string &key) const
{
    const GgufValue &v = value(key);
    if (!v.value.is_number_integer() && !v.value.is_boolean())
        throw Error("GGUF file '" + m_path + "': metadata '" + key + "' should be an integer but is " +
                    valueTypeName(v.type));
    if (v.value.is_number_unsigned() &&
        v.value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        throw Error("GGUF file '" + m_path + "': metadata '" + key + "' is out of range");
    return v.value.get<int64_t>();
}

int64_t GgufFile::integerOr(const std::string &key, int64_t fallback) const
{
    return has(key) ? integer(key) : fallback;
}

double GgufFile::number(const std::string &key) const
{
    const GgufValue &v = value(key);
    if (!v.value.is_number())
        throw Error("GGUF file '" + m_path + "': metadata '" + key + "' should be a number but is " +
                    valueTypeName(v.type));
    return v.value.get<double>();
}

double GgufFile::numberOr(const std::string &key, double fallback) const
{
    return has(key) ? number(key) : fallback;
}

std::string GgufFile::string(const std::string &key) const
{
    const GgufValue &v = value(key);
    if (!v.value.is_string())
        throw Error("GGUF file '" + m_path + "': metadata '" + key + "' should be a string but is " +
                    valueTypeName(v.type));
    return v.value.get<std::string>();
}

std::string GgufFile::stringOr(const std::string &key, const std::string &fallback) const
{
    return has(key) ? string(key) : fallback;
}

bool GgufFile::booleanOr(const std::string &key, bool fallback) const
{
    if (!has(key))
        return fallback;
    const GgufValue &v = value(key);
    if (v.value.is_boolean())
        return v.value.get<bool>();
    if (v.value.is_number_integer())
        return v.value.get<int64_t>() != 0;
    throw Error("GGUF file '" + m_path + "': metadata '" + key + "' should be a bool but is " +
                valueTypeName(v.type));
}

const GgufTensorInfo &GgufFile::tensorInfo(const std::string &name) const
{
    auto it = m_tensorIndex.find(name);
    if (it == m_tensorIndex.end())
        throw Error("GGUF file '" + m_path + "' has no tensor '" + name + "'");
    return m_tensors[it->second];
}

const uint8_t *GgufFile::tensorData(const std::string &name) const
{
    return m_mapping + m_dataOffset + tensorInfo(name).offset;
}

torch::Tensor GgufFile::tensor(const std::string &name) const
{
    const GgufTensorInfo &info = tensorInfo(name);
    if (!ggmlTypeReadable(info.type))
        throw Error(
            "GGUF file '" + m_path + "': tensor '" + name + "' is stored as " + ggmlTypeName(info.type) +
            ", which cannot be dequantised here (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
            "Q2_K..Q6_K). Use a file quantised with one of those types.");
    try {
        return dequantizeGgml(info.type, tensorData(name), info.elements()).reshape(info.shape());
    } catch (const c10::Error &e) {
        throw Error("GGUF file '" + m_path + "': cannot read tensor '" + name +
                    "': " + e.what_without_backtrace());
    }
}

} // namespace emloc::core
