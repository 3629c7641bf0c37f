#pragma once
// Unicode character classes, case and normal forms with the exact semantics of Rust's `char` methods,
// because the tokenizers library (Rust) defines what the tokenizer must produce. The UTF-8 codec is
// emloc/io/utf8.h (the readers below text need it too).

#include "emloc/io/utf8.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace emloc::core::unicode {

bool isWhitespace(char32_t c);   // char::is_whitespace (White_Space)
bool isNumeric(char32_t c);      // char::is_numeric (Nd, Nl, No)
bool isAlphanumeric(char32_t c); // char::is_alphanumeric (Alphabetic or numeric)
bool isWordChar(char32_t c);     // regex crate's Unicode \w
bool isMark(char32_t c);         // general category M (Mn, Mc, Me)

// char::to_lowercase applied per character (no context: a final sigma stays σ).
std::string toLowercase(std::string_view text);

enum class NormalForm { Nfc, Nfd, Nfkc, Nfkd };
std::string normalizeUnicode(std::string_view text, NormalForm form);

} // namespace emloc::core::unicode
