#include "emloc/io/dtype.h"

namespace emloc::core {

namespace {
torch::ScalarType scalarTypeOf(FloatType type)
{
    switch (type) {
    case FloatType::Float32:
        return torch::kFloat32;
    case FloatType::BFloat16:
        return torch::kBFloat16;
    case FloatType::Float16:
        return torch::kFloat16;
    case FloatType::Float64:
        return torch::kFloat64;
    }
    return torch::kFloat32;
}

std::optional<FloatType> floatTypeOf(torch::ScalarType type)
{
    for (FloatType candidate :
         {FloatType::Float32, FloatType::BFloat16, FloatType::Float16, FloatType::Float64})
        if (scalarTypeOf(candidate) == type)
            return candidate;
    return std::nullopt;
}
} // namespace

std::optional<torch::ScalarType> floatDtypeFromName(std::string_view name)
{
    if (const std::optional<FloatType> type = floatTypeFromName(name))
        return scalarTypeOf(*type);
    return std::nullopt;
}

std::string hfDtypeName(torch::ScalarType type)
{
    const std::optional<FloatType> floatType = floatTypeOf(type);
    return floatType ? hfTypeName(*floatType) : std::string(c10::toString(type));
}

std::string shortDtypeName(torch::ScalarType type)
{
    const std::optional<FloatType> floatType = floatTypeOf(type);
    return floatType ? shortTypeName(*floatType) : std::string(c10::toString(type));
}

} // namespace emloc::core
