#pragma once
// GPT-2's reversible byte <-> printable character table (bytes_to_unicode): the ByteLevel
// pre-tokenizer and decoder, and the GGUF vocabulary's respelling, share it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace emloc::core {

class ByteLevelTable
{
public:
    static const ByteLevelTable &instance();

    // The UTF-8 encoding of the character standing for `byte`.
    const std::string &charFor(unsigned char byte) const { return m_byteToUtf8[byte]; }
    // Appends the mapped characters of every byte of `text`.
    void encode(std::string_view text, std::string &out) const;
    // The byte a character stands for; -1 when the character is not in the table.
    int byteFor(char32_t c) const;

private:
    ByteLevelTable();
    std::array<std::string, 256> m_byteToUtf8;
    std::unordered_map<char32_t, unsigned char> m_charToByte;
};

} // namespace emloc::core
