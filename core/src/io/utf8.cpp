#include "emloc/io/utf8.h"

namespace emloc::core::unicode {

size_t sequenceLength(unsigned char leadByte)
{
    if (leadByte < 0xC0)
        return 1;
    if (leadByte < 0xE0)
        return 2;
    if (leadByte < 0xF0)
        return 3;
    return 4;
}

char32_t nextCodePoint(std::string_view text, size_t &pos)
{
    const auto byteAt = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byteAt(pos);
    const size_t length = sequenceLength(lead);
    if (length == 1 || pos + length > text.size()) {
        ++pos;
        return lead;
    }
    char32_t c = lead & (0xFF >> (length + 1));
    for (size_t i = 1; i < length; ++i)
        c = (c << 6) | (byteAt(pos + i) & 0x3F);
    pos += length;
    return c;
}

size_t previousCodePointStart(std::string_view text, size_t end, size_t begin)
{
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        --start;
    return start;
}

void appendUtf8(std::string &out, char32_t c)
{
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::string toUtf8(char32_t codePoint)
{
    std::string out;
    appendUtf8(out, codePoint);
    return out;
}

namespace {

// Length of the valid sequence at `pos`, or 0 with `invalidLength` set to the maximal invalid
// subpart (Unicode 3.9 "substitution of maximal subparts", which Rust's from_utf8_lossy follows).
size_t validSequenceAt(std::string_view bytes, size_t pos, size_t &invalidLength)
{
    const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
    const unsigned char b0 = at(pos);
    if (b0 < 0x80)
        return 1;
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        if (b0 == 0xE0)
            low = 0xA0;
        else if (b0 == 0xED)
            high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        if (b0 == 0xF0)
            low = 0x90;
        else if (b0 == 0xF4)
            high = 0x8F;
    } else {
        invalidLength = 1;
        return 0;
    }
    for (size_t i = 1; i < length; ++i) {
        if (pos + i >= bytes.size()) {
            invalidLength = i;
            return 0;
        }
        const unsigned char b = at(pos + i);
        const bool ok = i == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
        if (!ok) {
            invalidLength = i;
            return 0;
        }
    }
    return length;
}

} // namespace

size_t findInvalidUtf8(std::string_view text)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t invalidLength = 0;
        const size_t length = validSequenceAt(text, pos, invalidLength);
        if (length == 0)
            return pos;
        pos += length;
    }
    return std::string_view::npos;
}

std::string fromUtf8Lossy(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    size_t pos = 0;
    while (pos < bytes.size()) {
        size_t invalidLength = 0;
        const size_t length = validSequenceAt(bytes, pos, invalidLength);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            pos += invalidLength;
        } else {
            out.append(bytes.substr(pos, length));
            pos += length;
        }
    }
    return out;
}

std::vector<char32_t> decodeUtf8Lossy(std::string_view bytes)
{
    const std::string valid = fromUtf8Lossy(bytes);
    std::vector<char32_t> out;
    out.reserve(valid.size());
    for (size_t pos = 0; pos < valid.size();)
        out.push_back(nextCodePoint(valid, pos));
    return out;
}

} // namespace emloc::core::unicode
