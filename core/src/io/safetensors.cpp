#include "emloc/io/safetensors.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace emloc::core {

namespace {
// A header this large is not a real model's (a 1000-layer model needs well under 1 MB); reading it
// would only mean a corrupt length field.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;
constexpr const char *kIndexFileName = "model.safetensors.index.json";
constexpr const char *kSingleFileName = "model.safetensors";

struct DtypeEntry
{
    const char *name;
    c10::ScalarType type;
    uint64_t bytes;
};

const std::vector<DtypeEntry> &dtypeTable()
{
    static const std::vector<DtypeEntry> table = {
        {"F64", torch::kFloat64, 8},
        {"F32", torch::kFloat32, 4},
        {"F16", torch::kFloat16, 2},
        {"BF16", torch::kBFloat16, 2},
        {"F8_E4M3", torch::kFloat8_e4m3fn, 1},
        {"F8_E5M2", torch::kFloat8_e5m2, 1},
        {"I64", torch::kInt64, 8},
        {"I32", torch::kInt32, 4},
        {"I16", torch::kInt16, 2},
        {"I8", torch::kInt8, 1},
        {"U64", torch::kUInt64, 8},
        {"U32", torch::kUInt32, 4},
        {"U16", torch::kUInt16, 2},
        {"U8", torch::kUInt8, 1},
        {"BOOL", torch::kBool, 1},
    };
    return table;
}

const DtypeEntry *findDtype(const std::string &name)
{
    for (const DtypeEntry &entry : dtypeTable())
        if (name == entry.name)
            return &entry;
    return nullptr;
}

const DtypeEntry *findDtype(c10::ScalarType type)
{
    for (const DtypeEntry &entry : dtypeTable())
        if (type == entry.type)
            return &entry;
    return nullptr;
}

std::string knownDtypes()
{
    std::string list;
    for (const DtypeEntry &entry : dtypeTable())
        list += (list.empty() ? "" : ", ") + std::string(entry.name);
    return list;
}

std::string joinPath(const std::string &folder, const std::string &name)
{
    if (folder.empty())
        return name;
    return folder.back() == '/' ? folder + name : folder + "/" + name;
}

bool isRegularFile(const std::string &path)
{
    struct stat fileStat
    {};
    return ::stat(path.c_str(), &fileStat) == 0 && S_ISREG(fileStat.st_mode);
}

bool isFolder(const std::string &path)
{
    struct stat fileStat
    {};
    return ::stat(path.c_str(), &fileStat) == 0 && S_ISDIR(fileStat.st_mode);
}

uint64_t readLittleEndian64(const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | bytes[i];
    return value;
}

// Multiplies while guarding against a shape whose byte size does not fit 64 bits.
bool multiplyChecked(uint64_t a, uint64_t b, uint64_t &result)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    result = a * b;
    return true;
}
} // namespace

SafetensorsFile::SafetensorsFile(const std::string &path) : m_path(path)
{
    const std::string where = "the safetensors file '" + path + "'";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT)
            throw Error(where + " does not exist");
        throw Error("cannot open " + where + ": " + std::strerror(error));
    }
    struct stat fileStat
    {};
    if (::fstat(fd, &fileStat) != 0 || !S_ISREG(fileStat.st_mode)) {
        ::close(fd);
        throw Error(where + " is not a regular file");
    }
    const uint64_t fileSize = static_cast<uint64_t>(fileStat.st_size);
    if (fileSize < 8) {
        ::close(fd);
        throw Error(where + " is only " + std::to_string(fileSize) +
                    " bytes long: too short to hold a header (truncated or not a safetensors file)");
    }
    void *mapping = ::mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
    const int mapError = errno;
    ::close(fd);
    if (mapping == MAP_FAILED)
        throw Error("cannot map " + where + " into memory: " + std::strerror(mapError));
    m_mapping = static_cast<const uint8_t *>(mapping);
    m_mappingSize = fileSize;

    // The mapping must be released if validation fails, and the destructor does not run then.
    try {
        const uint64_t headerSize = readLittleEndian64(m_mapping);
        if (headerSize > kMaxHeaderBytes)
            throw Error(
                where + " declares a " + std::to_string(headerSize) +
                "-byte header, which is not plausible: the file is corrupt or not a safetensors file");
        if (headerSize > fileSize - 8)
            throw Error(where + " declares a " + std::to_string(headerSize) + "-byte header but holds only " +
                        std::to_string(fileSize - 8) +
                        " bytes after the length field: the file is truncated");
        m_dataOffset = 8 + headerSize;
        const uint64_t dataSize = fileSize - m_dataOffset;

        nlohmann::json header;
        try {
            header = nlohmann::json::parse(m_mapping + 8, m_mapping + m_dataOffset);
        } catch (const nlohmann::json::exception &e) {
            throw Error(where + " has a header that is not valid JSON (" + e.what() + ")");
        }
        if (!header.is_object())
            throw Error(where + " has a header that is not a JSON object");

        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string &name = it.key();
            const nlohmann::json &entry = it.value();
            if (name == "__metadata__") {
                if (!entry.is_object())
                    throw Error(where + ": __metadata__ must be an object of strings");
                for (auto meta = entry.begin(); meta != entry.end(); ++meta) {
                    if (!meta.value().is_string())
                        throw Error(where + ": __metadata__ entry '" + meta.key() + "' is not a string");
                    m_metadata[meta.key()] = meta.value().get<std::string>();
                }
                continue;
            }
            const std::string tensorWhere = where + ", tensor '" + name + "'";
            if (!entry.is_object())
                throw Error(tensorWhere + ": the entry is not an object");
            TensorInfo info;
            info.name = name;

            const auto dtype = entry.find("dtype");
            if (dtype == entry.end() || !dtype->is_string())
                throw Error(tensorWhere + ": missing or non-string 'dtype'");
            info.dtype = dtype->get<std::string>();
            const DtypeEntry *dtypeEntry = findDtype(info.dtype);
            if (!dtypeEntry)
                throw Error(tensorWhere + ": unknown dtype '" + info.dtype + "' (known: " + knownDtypes() +
                            ")");

            const auto shape = entry.find("shape");
            if (shape == entry.end() || !shape->is_array())
                throw Error(tensorWhere + ": missing 'shape' array");
            uint64_t numel = 1;
            for (const nlohmann::json &dim : *shape) {
                if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
                    throw Error(tensorWhere + ": shape " + shape->dump() +
                                " must hold non-negative integers");
                const int64_t size = dim.get<int64_t>();
                info.shape.push_back(size);
                if (!multiplyChecked(numel, static_cast<uint64_t>(size), numel))
                    throw Error(tensorWhere + ": shape " + shape->dump() + " is too large");
            }

            const auto offsets = entry.find("data_offsets");
            if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
                !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
                throw Error(tensorWhere + ": 'data_offsets' must be [begin, end] with non-negative integers");
            info.begin = (*offsets)[0].get<uint64_t>();
            info.end = (*offsets)[1].get<uint64_t>();
            if (info.begin > info.end)
                throw Error(tensorWhere + ": data_offsets " + offsets->dump() + " end before they begin");
            if (info.end > dataSize)
                throw Error(tensorWhere + ": data_offsets " + offsets->dump() +
                            " reach past the end of the data (" + std::to_string(dataSize) +
                            " bytes): the file is truncated or corrupt");
            uint64_t expectedBytes = 0;
            if (!multiplyChecked(numel, dtypeEntry->bytes, expectedBytes) ||
                expectedBytes != info.end - info.begin)
                throw Error(tensorWhere + ": shape " + shape->dump() + " of " + info.dtype + " needs " +
                            std::to_string(expectedBytes) + " bytes but data_offsets " + offsets->dump() +
                            " span " + std::to_string(info.end - info.begin));
            m_tensors.emplace(name, std::move(info));
        }

        std::vector<const TensorInfo *> byOffset;
        for (const auto &[name, info] : m_tensors)
            if (info.end > info.begin) // empty tensors occupy no bytes and overlap nothing
                byOffset.push_back(&info);
        std::sort(byOffset.begin(), byOffset.end(),
                  [](const TensorInfo *a, const TensorInfo *b) { return a->begin < b->begin; });
        for (size_t i = 1; i < byOffset.size(); ++i)
            if (byOffset[i]->begin < byOffset[i - 1]->end)
                throw Error(where + ": the data of tensors '" + byOffset[i - 1]->name + "' and '" +
                            byOffset[i]->name + "' overlap: the file is corrupt");
    } catch (...) {
        ::munmap(const_cast<uint8_t *>(m_mapping), m_mappingSize);
        m_mapping = nullptr;
        throw;
    }
}

SafetensorsFile::~SafetensorsFile()
{
    if (m_mapping)
        ::munmap(const_cast<uint8_t *>(m_mapping), m_mappingSize);
}

std::vector<std::string> SafetensorsFile::names() const
{
    std::vector<std::string> result;
    result.reserve(m_tensors.size());
    for (const auto &entry : m_tensors)
        result.push_back(entry.first);
    return result;
}

bool SafetensorsFile::contains(const std::string &name) const
{
    return m_tensors.count(name) != 0;
}

const TensorInfo &SafetensorsFile::info(const std::string &name) const
{
    const auto it = m_tensors.find(name);
    if (it == m_tensors.end())
        throw Error("the safetensors file '" + m_path + "' has no tensor '" + name + "'");
    return it->second;
}

torch::Tensor SafetensorsFile::tensor(const std::string &name) const
{
    const TensorInfo &tensorInfo = info(name);
    const DtypeEntry *dtype = findDtype(tensorInfo.dtype);
    // Copying into a fresh tensor (rather than from_blob) also avoids misaligned views of the mapping.
    torch::Tensor result = torch::empty(tensorInfo.shape, torch::TensorOptions().dtype(dtype->type));
    const uint64_t bytes = tensorInfo.end - tensorInfo.begin;
    if (bytes > 0) {
        const uint8_t *begin = m_mapping + m_dataOffset + tensorInfo.begin;
        std::memcpy(result.data_ptr(), begin, bytes);
        // The copy owns the data now: drop the mapped pages so that streaming a model layer by layer does
        // not leave the whole file resident (and counted in RSS). The mapping is read-only and private, so
        // a later read of the same pages refaults them from the page cache.
        const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        const uintptr_t first = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
        const uintptr_t last = (reinterpret_cast<uintptr_t>(begin) + bytes + page - 1) & ~(page - 1);
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
    }
    return result;
}

SafetensorsModel::SafetensorsModel(const std::string &path)
{
    if (isRegularFile(path)) {
        const size_t slash = path.find_last_of('/');
        m_folder = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
        const std::string fileName = slash == std::string::npos ? path : path.substr(slash + 1);
        auto file = std::make_unique<SafetensorsFile>(path);
        for (const std::string &name : file->names())
            m_fileOfTensor[name] = fileName;
        m_files[fileName] = std::move(file);
        return;
    }
    if (!isFolder(path))
        throw Error("the weights path '" + path + "' does not exist");
    m_folder = path;

    const std::string indexPath = joinPath(path, kIndexFileName);
    if (isRegularFile(indexPath)) {
        nlohmann::json index;
        try {
            index = nlohmann::json::parse(readTextFile(indexPath));
        } catch (const nlohmann::json::exception &e) {
            throw Error("the index '" + indexPath + "' is not valid JSON (" + e.what() + ")");
        }
        const auto weightMap = index.is_object() ? index.find("weight_map") : index.end();
        if (!index.is_object() || weightMap == index.end() || !weightMap->is_object())
            throw Error("the index '" + indexPath + "' has no 'weight_map' object");
        for (auto it = weightMap->begin(); it != weightMap->end(); ++it) {
            if (!it.value().is_string())
                throw Error("the index '" + indexPath + "' maps tensor '" + it.key() + "' to a non-string");
            const std::string shard = it.value().get<std::string>();
            if (m_files.count(shard) == 0) {
                if (!isRegularFile(joinPath(path, shard)))
                    throw Error("the index '" + indexPath + "' lists the shard '" + shard +
                                "', which is missing from the folder; copy the complete model folder");
                m_files[shard] = nullptr; // mapped on first use
            }
            m_fileOfTensor[it.key()] = shard;
        }
        return;
    }
    const std::string singlePath = joinPath(path, kSingleFileName);
    if (!isRegularFile(singlePath))
        throw Error("the folder '" + path + "' holds neither " + kSingleFileName + " nor " + kIndexFileName +
                    ": the weights must be in safetensors format (save the model with transformers' "
                    "save_pretrained, which writes safetensors by default)");
    auto file = std::make_unique<SafetensorsFile>(singlePath);
    for (const std::string &name : file->names())
        m_fileOfTensor[name] = kSingleFileName;
    m_files[kSingleFileName] = std::move(file);
}

const SafetensorsFile &SafetensorsModel::fileFor(const std::string &name) const
{
    const auto it = m_fileOfTensor.find(name);
    if (it == m_fileOfTensor.end())
        throw Error("the model weights in '" + m_folder + "' have no tensor '" + name + "'");
    std::lock_guard<std::mutex> lock(m_mutex);
    std::unique_ptr<SafetensorsFile> &file = m_files[it->second];
    if (!file)
        file = std::make_unique<SafetensorsFile>(joinPath(m_folder, it->second));
    if (!file->contains(name))
        throw Error("the index in '" + m_folder + "' places tensor '" + name + "' in the shard '" +
                    it->second + "', which does not contain it: the index and the shards do not match");
    return *file;
}

std::vector<std::string> SafetensorsModel::names() const
{
    std::vector<std::string> result;
    result.reserve(m_fileOfTensor.size());
    for (const auto &entry : m_fileOfTensor)
        result.push_back(entry.first);
    return result;
}

bool SafetensorsModel::contains(const std::string &name) const
{
    return m_fileOfTensor.count(name) != 0;
}

const TensorInfo &SafetensorsModel::info(const std::string &name) const
{
    return fileFor(name).info(name);
}

torch::Tensor SafetensorsModel::tensor(const std::string &name) const
{
    return fileFor(name).tensor(name);
}

uint64_t SafetensorsModel::totalBytes() const
{
    uint64_t total = 0;
    for (const auto &entry : m_fileOfTensor) {
        const TensorInfo &tensorInfo = info(entry.first);
        total += tensorInfo.end - tensorInfo.begin;
    }
    return total;
}

void writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    struct Entry
    {
        const std::string *name;
        const torch::Tensor *tensor;
        const DtypeEntry *dtype;
        uint64_t bytes;
    };
    std::vector<Entry> entries;
    entries.reserve(tensors.size());
    std::set<std::string> seen;
    for (const auto &[name, tensor] : tensors) {
        if (name.empty() || name == "__metadata__")
            throw Error("cannot write '" + path + "': invalid tensor name '" + name + "'");
        if (!seen.insert(name).second)
            throw Error("cannot write '" + path + "': the tensor name '" + name + "' appears twice");
        if (!tensor.defined())
            throw Error("cannot write '" + path + "': tensor '" + name + "' is undefined");
        const DtypeEntry *dtype = findDtype(tensor.scalar_type());
        if (!dtype)
            throw Error("cannot write '" + path + "': tensor '" + name + "' has the dtype " +
                        std::string(c10::toString(tensor.scalar_type())) +
                        ", which safetensors cannot store (known: " + knownDtypes() + ")");
        entries.push_back({&name, &tensor, dtype, static_cast<uint64_t>(tensor.numel()) * dtype->bytes});
    }
    // Like the reference writer: widest dtypes first, so every tensor starts aligned to its element size.
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        if (a.dtype->bytes != b.dtype->bytes)
            return a.dtype->bytes > b.dtype->bytes;
        return *a.name < *b.name;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const Entry &entry : entries) {
        header[*entry.name] = {{"dtype", entry.dtype->name},
                               {"shape", entry.tensor->sizes().vec()},
                               {"data_offsets", {offset, offset + entry.bytes}}};
        offset += entry.bytes;
    }
    std::string headerText = header.dump();
    // The data section starts 8-byte aligned; the format pads the header with spaces.
    headerText.append((8 - headerText.size() % 8) % 8, ' ');
    uint8_t lengthBytes[8];
    for (int i = 0; i < 8; ++i)
        lengthBytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(headerText.size()) >> (8 * i));

    AtomicFile file(path);
    file.write(lengthBytes, sizeof lengthBytes);
    file.write(headerText);
    for (const Entry &entry : entries) {
        // One contiguous CPU copy at a time keeps the peak memory to the largest tensor.
        const torch::Tensor data = entry.tensor->detach().to(torch::kCPU).contiguous();
        if (entry.bytes > 0)
            file.write(data.data_ptr(), entry.bytes);
    }
    file.commit();
}

} // namespace emloc::core
