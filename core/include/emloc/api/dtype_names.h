#pragma once
// Floating-point types by every name users and files give them, in one torch-free table, so that every
// reader (the CLI's flags, configuration files, config.json, conversions, exports) accepts the same
// spellings. emloc/io/dtype.h maps them to LibTorch's types.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace emloc::core {

enum class FloatType { Float32, BFloat16, Float16, Float64 };

// floatTypeFromName: our flags' fp32 / bf16 / fp16 / fp64; Hugging Face's float32 / bfloat16 / float16 /
// float64, also "torch."-prefixed and as float / half / double; the tensor files' F32 / BF16 / F16 / F64.
// nullopt for any other name (each caller says which of these types it accepts and what to do).
// hfTypeName: "float32", "bfloat16", ... (config.json's torch_dtype). shortTypeName: "fp32", "bf16", ...
// (our flags, summaries, benchmarks). typeBytes: 4, 2, 2, 8.
// Inline: the CLI's launcher checks its flags with them and links nothing of core.

namespace detail {
struct FloatTypeNames
{
    FloatType type;
    const char *shortName;
    const char *hfName;
    const char *tensorFileName;
    const char *pythonName; // "" when Python has none
    int bytes;
};

constexpr std::array<FloatTypeNames, 4> kNames{{
    {FloatType::Float32, "fp32", "float32", "F32", "float", 4},
    {FloatType::BFloat16, "bf16", "bfloat16", "BF16", "", 2},
    {FloatType::Float16, "fp16", "float16", "F16", "half", 2},
    {FloatType::Float64, "fp64", "float64", "F64", "double", 8},
}};

inline const FloatTypeNames &namesOf(FloatType type)
{
    return kNames[static_cast<size_t>(type)];
}
} // namespace detail

inline std::optional<FloatType> floatTypeFromName(std::string_view name)
{
    if (name.substr(0, 6) == "torch.")
        name.remove_prefix(6);
    for (const detail::FloatTypeNames &entry : detail::kNames)
        if (name == entry.shortName || name == entry.hfName || name == entry.tensorFileName ||
            (*entry.pythonName && name == entry.pythonName))
            return entry.type;
    return std::nullopt;
}

inline std::string hfTypeName(FloatType type)
{
    return detail::namesOf(type).hfName;
}

inline std::string shortTypeName(FloatType type)
{
    return detail::namesOf(type).shortName;
}

inline int typeBytes(FloatType type)
{
    return detail::namesOf(type).bytes;
}

} // namespace emloc::core
