#pragma once
// UTF-8 encoding and decoding with the exact semantics of Rust's `str` (the tokenizers library defines
// what the tokenizer must produce); the one codec of every reader of text, tokens and templates.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace emloc::core::unicode {

// Decodes the code point starting at `pos` of valid UTF-8 and advances `pos` past it.
char32_t nextCodePoint(std::string_view text, size_t &pos);
// Byte length of the UTF-8 sequence starting with `leadByte` (1 for continuation bytes).
size_t sequenceLength(unsigned char leadByte);
// Start of the code point that ends at `end` (the byte before `end` and its lead byte), never before
// `begin`.
size_t previousCodePointStart(std::string_view text, size_t end, size_t begin = 0);
void appendUtf8(std::string &out, char32_t codePoint);
std::string toUtf8(char32_t codePoint);

// Byte offset of the first invalid sequence (overlongs, surrogates and code points above U+10FFFF are
// invalid), or npos when `text` is valid UTF-8.
size_t findInvalidUtf8(std::string_view text);
// Like Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD.
std::string fromUtf8Lossy(std::string_view bytes);
// The code points of fromUtf8Lossy(bytes).
std::vector<char32_t> decodeUtf8Lossy(std::string_view bytes);

} // namespace emloc::core::unicode
