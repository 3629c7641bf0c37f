// ggml block formats: sizes, dequantisation to float32 and encoding of the types the writer emits.
// Every block type is decoded for all blocks at once with torch ops on a [blocks, bytes] view.
#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"

#include <algorithm>
#include <cctype>

namespace emloc::core {

namespace {

constexpr int64_t kSuperBlock = 256; // QK_K

struct TypeTraits
{
    GgmlType type;
    const char *name;
    int64_t blockSize;
    int64_t typeSize;
    bool readable;
    bool writable;
};

// clang-format off
constexpr TypeTraits kTypes[] = {
    {GgmlType::F32, "F32", 1, 4, true, true},
    {GgmlType::F16, "F16", 1, 2, true, true},
    {GgmlType::Q4_0, "Q4_0", 32, 18, true, false},
    {GgmlType::Q4_1, "Q4_1", 32, 20, true, false},
    {GgmlType::Q5_0, "Q5_0", 32, 22, true, false},
    {GgmlType::Q5_1, "Q5_1", 32, 24, true, false},
    {GgmlType::Q8_0, "Q8_0", 32, 34, true, true},
    {GgmlType::Q8_1, "Q8_1", 32, 36, false, false},
    {GgmlType::Q2_K, "Q2_K", kSuperBlock, 84, true, false},
    {GgmlType::Q3_K, "Q3_K", kSuperBlock, 110, true, false},
    {GgmlType::Q4_K, "Q4_K", kSuperBlock, 144, true, false},
    {GgmlType::Q5_K, "Q5_K", kSuperBlock, 176, true, false},
    {GgmlType::Q6_K, "Q6_K", kSuperBlock, 210, true, false},
    {GgmlType::Q8_K, "Q8_K", kSuperBlock, 292, false, false},
    {GgmlType::I8, "I8", 1, 1, true, false},
    {GgmlType::I16, "I16", 1, 2, true, false},
    {GgmlType::I32, "I32", 1, 4, true, false},
    {GgmlType::I64, "I64", 1, 8, false, false},
    {GgmlType::F64, "F64", 1, 8, true, false},
    {GgmlType::BF16, "BF16", 1, 2, true, true},
};
// clang-format on

const TypeTraits *traits(GgmlType type)
{
    for (const auto &entry : kTypes)
        if (entry.type == type)
            return &entry;
    return nullptr;
}

torch::Tensor byteColumns(const torch::Tensor &blocks, int64_t begin, int64_t end)
{
    return blocks.slice(1, begin, end).contiguous();
}

// Little-endian fp16 fields (2 bytes per column pair) as float32 [blocks, n].
torch::Tensor halfColumns(const torch::Tensor &blocks, int64_t begin, int64_t count = 1)
{
    return byteColumns(blocks, begin, begin + 2 * count).view(torch::kFloat16).to(torch::kFloat32);
}

torch::Tensor shifts(std::initializer_list<int64_t> values, std::vector<int64_t> shape)
{
    return torch::tensor(std::vector<int64_t>(values), torch::kUInt8).reshape(shape);
}

// Low nibbles then high nibbles of `bytes` [blocks, n]: [blocks, 2n] (the 32-element block layout).
torch::Tensor nibbles(const torch::Tensor &bytes)
{
    return torch::cat({torch::bitwise_and(bytes, 0x0F), torch::bitwise_right_shift(bytes, 4)}, 1);
}

// The 32 high bits of Q5_0/Q5_1 (a little-endian uint32) as [blocks, 32] 0/1 values.
torch::Tensor bitsOf(const torch::Tensor &bytes)
{
    auto expanded =
        torch::bitwise_right_shift(bytes.unsqueeze(2), shifts({0, 1, 2, 3, 4, 5, 6, 7}, {1, 1, 8}));
    return torch::bitwise_and(expanded, 1).reshape({bytes.size(0), -1});
}

torch::Tensor dequantizeQ4_0(const torch::Tensor &b)
{
    auto d = halfColumns(b, 0);
    auto q = nibbles(byteColumns(b, 2, 18)).to(torch::kFloat32) - 8.0f;
    return d * q;
}

torch::Tensor dequantizeQ4_1(const torch::Tensor &b)
{
    auto d = halfColumns(b, 0);
    auto m = halfColumns(b, 2);
    auto q = nibbles(byteColumns(b, 4, 20)).to(torch::kFloat32);
    return d * q + m;
}

torch::Tensor fiveBitValues(const torch::Tensor &b, int64_t highBitsAt)
{
    auto high = bitsOf(byteColumns(b, highBitsAt, highBitsAt + 4));
    auto low = nibbles(byteColumns(b, highBitsAt + 4, highBitsAt + 20));
    return torch::bitwise_or(low, torch::bitwise_left_shift(high, 4)).to(torch::kFloat32);
}

torch::Tensor dequantizeQ5_0(const torch::Tensor &b)
{
    return halfColumns(b, 0) * (fiveBitValues(b, 2) - 16.0f);
}

torch::Tensor dequantizeQ5_1(const torch::Tensor &b)
{
    return halfColumns(b, 0) * fiveBitValues(b, 4) + halfColumns(b, 2);
}

torch::Tensor dequantizeQ8_0(const torch::Tensor &b)
{
    return halfColumns(b, 0) * byteColumns(b, 2, 34).view(torch::kInt8).to(torch::kFloat32);
}

// Q2_K: 16 sub-blocks of 16 with 4-bit scale and min; 2-bit values, four bit planes per 32 bytes.
torch::Tensor dequantizeQ2_K(const torch::Tensor &b)
{
    const int64_t n = b.size(0);
    auto scales = byteColumns(b, 0, 16);
    auto qs = byteColumns(b, 16, 80);
    auto d = halfColumns(b, 80).unsqueeze(2);
    auto dmin = halfColumns(b, 82).unsqueeze(2);
    auto scale = d * torch::bitwise_and(scales, 0x0F).to(torch::kFloat32).unsqueeze(2);
    auto minimum = dmin * torch::bitwise_right_shift(scales, 4).to(torch::kFloat32).unsqueeze(2);
    auto q = torch::bitwise_and(
                 torch::bitwise_right_shift(qs.reshape({n, 2, 1, 32}), shifts({0, 2, 4, 6}, {1, 1, 4, 1})), 3)
                 .reshape({n, 16, 16})
                 .to(torch::kFloat32);
    return (scale * q - minimum).reshape({n, kSuperBlock});
}

// Q3_K: 16 sub-blocks with 6-bit signed scales split into 4 low + 2 high bits; values are 2 low bits
// plus a high-bit mask whose *cleared* bit subtracts 4.
torch::Tensor dequantizeQ3_K(const torch::Tensor &b)
{
    const int64_t n = b.size(0);
    auto hmask = byteColumns(b, 0, 32);
    auto qs = byteColumns(b, 32, 96);
    auto packed = byteColumns(b, 96, 108);
    auto d = halfColumns(b, 108).unsqueeze(2);
    auto low = torch::bitwise_and(
        torch::bitwise_right_shift(packed.slice(1, 0, 8).reshape({n, 1, 8}), shifts({0, 4}, {1, 2, 1}))
            .reshape({n, 16}),
        0x0F);
    auto high = torch::bitwise_and(
        torch::bitwise_right_shift(packed.slice(1, 8, 12).reshape({n, 1, 4}), shifts({0, 2, 4, 6}, {1, 4, 1}))
            .reshape({n, 16}),
        3);
    auto scale = torch::bitwise_or(low, torch::bitwise_left_shift(high, 4)).to(torch::kFloat32) - 32.0f;
    auto dl = d * scale.unsqueeze(2);
    auto ql =
        torch::bitwise_and(
            torch::bitwise_right_shift(qs.reshape({n, 2, 1, 32}), shifts({0, 2, 4, 6}, {1, 1, 4, 1})), 3)
            .reshape({n, 16, 16});
    auto qh = torch::bitwise_and(torch::bitwise_right_shift(hmask.reshape({n, 1, 1, 32}),
                                                            shifts({0, 1, 2, 3, 4, 5, 6, 7}, {1, 1, 8, 1})),
                                 1)
                  .reshape({n, 16, 16});
    auto q = ql.to(torch::kFloat32) - 4.0f * (1.0f - qh.to(torch::kFloat32));
    return (dl * q).reshape({n, kSuperBlock});
}

// The 8 six-bit scales and mins of Q4_K/Q5_K packed in 12 bytes.
std::pair<torch::Tensor, torch::Tensor> kScaleMin(const torch::Tensor &packed)
{
    auto d = packed.slice(1, 0, 4);
    auto m = packed.slice(1, 4, 8);
    auto md = packed.slice(1, 8, 12);
    auto scale = torch::cat({torch::bitwise_and(d, 0x3F),
                             torch::bitwise_or(torch::bitwise_and(md, 0x0F),
                                               torch::bitwise_and(torch::bitwise_right_shift(d, 2), 0x30))},
                            1);
    auto minimum = torch::cat({torch::bitwise_and(m, 0x3F),
                               torch::bitwise_or(torch::bitwise_right_shift(md, 4),
                                                 torch::bitwise_and(torch::bitwise_right_shift(m, 2), 0x30))},
                              1);
    return {scale.to(torch::kFloat32), minimum.to(torch::kFloat32)};
}

// 4-bit values of Q4_K/Q5_K: each 32 bytes give 32 low nibbles then 32 high nibbles: [n, 8, 32].
torch::Tensor kNibbles(const torch::Tensor &qs)
{
    const int64_t n = qs.size(0);
    return torch::bitwise_and(
               torch::bitwise_right_shift(qs.reshape({n, 4, 1, 32}), shifts({0, 4}, {1, 1, 2, 1})), 0x0F)
        .reshape({n, 8, 32});
}

torch::Tensor dequantizeQ4_K(const torch::Tensor &b)
{
    const int64_t n = b.size(0);
    auto d = halfColumns(b, 0);
    auto dmin = halfColumns(b, 2);
    auto [scale, minimum] = kScaleMin(byteColumns(b, 4, 16));
    auto q = kNibbles(byteColumns(b, 16, 144)).to(torch::kFloat32);
    return ((d * scale).unsqueeze(2) * q - (dmin * minimum).unsqueeze(2)).reshape({n, kSuperBlock});
}

torch::Tensor dequantizeQ5_K(const torch::Tensor &b)
{
    const int64_t n = b.size(0);
    auto d = halfColumns(b, 0);
    auto dmin = halfColumns(b, 2);
    auto [scale, minimum] = kScaleMin(byteColumns(b, 4, 16));
    auto qh = torch::bitwise_and(torch::bitwise_right_shift(byteColumns(b, 16, 48).reshape({n, 1, 1, 32}),
                                                            shifts({0, 1, 2, 3, 4, 5, 6, 7}, {1, 1, 8, 1})),
                                 1)
                  .reshape({n, 8, 32});
    auto q = torch::bitwise_or(kNibbles(byteColumns(b, 48, 176)), torch::bitwise_left_shift(qh, 4))
                 .to(torch::kFloat32);
    return ((d * scale).unsqueeze(2) * q - (dmin * minimum).unsqueeze(2)).reshape({n, kSuperBlock});
}

// Q6_K: per 128 values, 64 bytes of low nibbles and 32 bytes of 2-bit high parts; 16 int8 scales.
torch::Tensor dequantizeQ6_K(const torch::Tensor &b)
{
    const int64_t n = b.size(0);
    auto ql = torch::bitwise_and(torch::bitwise_right_shift(byteColumns(b, 0, 128).reshape({n, 2, 1, 64}),
                                                            shifts({0, 4}, {1, 1, 2, 1})),
                                 0x0F)
                  .reshape({n, 2, 4, 32});
    auto qh = torch::bitwise_and(torch::bitwise_right_shift(byteColumns(b, 128, 192).reshape({n, 2, 1, 32}),
                                                            shifts({0, 2, 4, 6}, {1, 1, 4, 1})),
                                 3);
    auto q =
        torch::bitwise_or(ql, torch::bitwise_left_shift(qh, 4)).reshape({n, 16, 16}).to(torch::kFloat32) -
        32.0f;
    auto scales = byteColumns(b, 192, 208).view(torch::kInt8).to(torch::kFloat32);
    auto d = halfColumns(b, 208);
    return ((d * scales).unsqueeze(2) * q).reshape({n, kSuperBlock});
}

} // namespace

std::string ggmlTypeName(GgmlType type)
{
    if (const TypeTraits *entry = traits(type))
        return entry->name;
    return "type " + std::to_string(static_cast<uint32_t>(type));
}

GgmlType parseGgmlType(const std::string &name)
{
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    for (const auto &entry : kTypes)
        if (upper == entry.name)
            return entry.type;
    std::string known;
    for (const auto &entry : kTypes)
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
    throw Error("Unknown GGUF tensor type '" + name + "'; known types: " + known);
}

bool ggmlTypeReadable(GgmlType type)
{
    const TypeTraits *entry = traits(type);
    return entry && entry->readable;
}

bool ggmlTypeWritable(GgmlType type)
{
    const TypeTraits *entry = traits(type);
    return entry && entry->writable;
}

int64_t ggmlBlockSize(GgmlType type)
{
    const TypeTraits *entry = traits(type);
    return entry ? entry->blockSize : 0;
}

int64_t ggmlTypeSize(GgmlType type)
{
    const TypeTraits *entry = traits(type);
    return entry ? entry->typeSize : 0;
}

uint64_t ggmlByteSize(GgmlType type, int64_t elements)
{
    const TypeTraits *entry = traits(type);
    if (!entry)
        throw Error("Unknown ggml type " + std::to_string(static_cast<uint32_t>(type)));
    if (elements < 0 || elements % entry->blockSize != 0)
        throw Error(std::to_string(elements) + " values are not a whole number of " + entry->name +
                    " blocks of " + std::to_string(entry->blockSize));
    return static_cast<uint64_t>(elements / entry->blockSize) * static_cast<uint64_t>(entry->typeSize);
}

torch::Tensor dequantizeGgml(GgmlType type, const void *data, int64_t elements)
{
    const TypeTraits *entry = traits(type);
    if (!entry || !entry->readable)
        throw Error("Cannot dequantise ggml type " + ggmlTypeName(type));
    const int64_t blockCount = elements / entry->blockSize;
    ggmlByteSize(type, elements); // validates the block count
    // from_blob does not copy; every path below produces a new tensor.
    auto bytes = torch::from_blob(const_cast<void *>(data), {blockCount, entry->typeSize}, torch::kUInt8);
    torch::Tensor values;
    switch (type) {
    case GgmlType::F32:
        values = bytes.clone().view(torch::kFloat32);
        break;
    case GgmlType::F16:
        values = bytes.clone().view(torch::kFloat16).to(torch::kFloat32);
        break;
    case GgmlType::BF16:
        values = bytes.clone().view(torch::kBFloat16).to(torch::kFloat32);
        break;
    case GgmlType::F64:
        values = bytes.clone().view(torch::kFloat64).to(torch::kFloat32);
        break;
    case GgmlType::I8:
        values = bytes.view(torch::kInt8).to(torch::kFloat32);
        break;
    case GgmlType::I16:
        values = bytes.clone().view(torch::kInt16).to(torch::kFloat32);
        break;
    case GgmlType::I32:
        values = bytes.clone().view(torch::kInt32).to(torch::kFloat32);
        break;
    case GgmlType::Q4_0:
        values = dequantizeQ4_0(bytes);
        break;
    case GgmlType::Q4_1:
        values = dequantizeQ4_1(bytes);
        break;
    case GgmlType::Q5_0:
        values = dequantizeQ5_0(bytes);
        break;
    case GgmlType::Q5_1:
        values = dequantizeQ5_1(bytes);
        break;
    case GgmlType::Q8_0:
        values = dequantizeQ8_0(bytes);
        break;
    case GgmlType::Q2_K:
        values = dequantizeQ2_K(bytes);
        break;
    case GgmlType::Q3_K:
        values = dequantizeQ3_K(bytes);
        break;
    case GgmlType::Q4_K:
        values = dequantizeQ4_K(bytes);
        break;
    case GgmlType::Q5_K:
        values = dequantizeQ5_K(bytes);
        break;
    case GgmlType::Q6_K:
        values = dequantizeQ6_K(bytes);
        break;
    default:
        throw Error("Cannot dequantise ggml type " + ggmlTypeName(type));
    }
    return values.reshape({elements});
}

std::vector<uint8_t> encodeGgml(GgmlType type, const torch::Tensor &values)
{
    auto flat = values.detach().to(torch::kCPU).reshape({-1});
    torch::Tensor bytes;
    switch (type) {
    case GgmlType::F32:
        bytes = flat.to(torch::kFloat32).contiguous().view(torch::kUInt8);
        break;
    case GgmlType::F16:
        bytes = flat.to(torch::kFloat16).contiguous().view(torch::kUInt8);
        break;
    case GgmlType::BF16:
        bytes = flat.to(torch::kBFloat16).contiguous().view(torch::kUInt8);
        break;
    case GgmlType::Q8_0: {
        if (flat.numel() % 32 != 0)
            throw Error("Q8_0 needs a multiple of 32 values, got " + std::to_string(flat.numel()));
        auto blocks = flat.to(torch::kFloat32).reshape({-1, 32});
        auto d = blocks.abs().amax(1, true) / 127.0f;
        auto inverse = torch::where(d == 0, torch::zeros_like(d), 1.0f / d);
        auto scaled = blocks * inverse;
        // roundf (half away from zero), as ggml's reference quantiser.
        auto q = (torch::sign(scaled) * torch::floor(scaled.abs() + 0.5f)).to(torch::kInt8);
        bytes =
            torch::cat({d.to(torch::kFloat16).view(torch::kUInt8), q.view(torch::kUInt8)}, 1).contiguous();
        break;
    }
    default:
        throw Error("Writing GGUF tensors as " + ggmlTypeName(type) +
                    " is not supported (use F32, F16, BF16 or Q8_0)");
    }
    bytes = bytes.contiguous();
    const uint8_t *begin = bytes.data_ptr<uint8_t>();
    return std::vector<uint8_t>(begin, begin + bytes.numel());
}

} // namespace emloc::core
