#pragma once
// Integers from untrusted text (model files, chat templates, command lines) without exceptions:
// std::stoll throws std::out_of_range / std::invalid_argument, which would escape as a message nobody can
// act on. Callers turn "nothing" into an Error that names the file and the field.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace emloc::core {

// The whole of `text` as an integer in `base` (an optional leading '-'); nothing when it is empty, holds
// anything else, or does not fit in 64 bits.
inline std::optional<int64_t> parseInt64(std::string_view text, int base = 10)
{
    int64_t value = 0;
    const char *end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, value, base);
    if (text.empty() || result.ec != std::errc() || result.ptr != end)
        return std::nullopt;
    return value;
}

} // namespace emloc::core
