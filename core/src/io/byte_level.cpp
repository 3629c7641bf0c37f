#include "emloc/io/byte_level.h"

#include "emloc/io/utf8.h"

namespace emloc::core {

ByteLevelTable::ByteLevelTable()
{
    // Printable Latin-1 bytes stand for themselves; the rest map to 256, 257, ... in byte order.
    const auto printable = [](int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const char32_t c = printable(b) ? static_cast<char32_t>(b) : next++;
        m_byteToUtf8[b] = unicode::toUtf8(c);
        m_charToByte[c] = static_cast<unsigned char>(b);
    }
}

const ByteLevelTable &ByteLevelTable::instance()
{
    static const ByteLevelTable table;
    return table;
}

void ByteLevelTable::encode(std::string_view text, std::string &out) const
{
    out.reserve(out.size() + text.size() * 2);
    for (char ch : text)
        out += m_byteToUtf8[static_cast<unsigned char>(ch)];
}

int ByteLevelTable::byteFor(char32_t c) const
{
    const auto it = m_charToByte.find(c);
    return it == m_charToByte.end() ? -1 : it->second;
}

} // namespace emloc::core
