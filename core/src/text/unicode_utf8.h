#pragma once
// UTF-8 and Unicode character classes with the exact semantics of Rust's `char` and `str` methods,
// because the tokenizers library (Rust) defines what the tokenizer must produce.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace emloc::core::unicode {

// Decodes the code point starting at `pos` of valid UTF-8 and advances `pos` past it.
char32_t nextCodePoint(std::string_view text, size_t &pos);
// Byte length of the UTF-8 sequence starting with `leadByte` (1 for continuation bytes).
size_t sequenceLength(unsigned char leadByte);
void appendUtf8(std::string &out, char32_t codePoint);
std::string toUtf8(char32_t codePoint);

// Byte offset of the first invalid sequence, or npos when `text` is valid UTF-8.
size_t findInvalidUtf8(std::string_view text);
// Like Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD.
std::string fromUtf8Lossy(std::string_view bytes);

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
