#include "text/unicode_utf8.h"

#include "emloc/error.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

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

bool isWhitespace(char32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool isNumeric(char32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    const int8_t type = u_charType(static_cast<UChar32>(c));
    return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool isAlphanumeric(char32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC) || isNumeric(c);
}

bool isMark(char32_t c)
{
    const int8_t type = u_charType(static_cast<UChar32>(c));
    return type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK;
}

bool isWordChar(char32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const UChar32 u = static_cast<UChar32>(c);
    const int8_t type = u_charType(u);
    return u_hasBinaryProperty(u, UCHAR_ALPHABETIC) || isMark(c) || type == U_DECIMAL_DIGIT_NUMBER ||
           type == U_CONNECTOR_PUNCTUATION || u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL);
}

std::string toLowercase(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const auto byte = static_cast<unsigned char>(text[pos]);
        if (byte < 0x80) {
            out.push_back(static_cast<char>(byte >= 'A' && byte <= 'Z' ? byte + 32 : byte));
            ++pos;
            continue;
        }
        const char32_t c = nextCodePoint(text, pos);
        // One code point at a time, so ICU's full (SpecialCasing) mapping sees no context.
        UChar source[2];
        int32_t sourceLength = 0;
        U16_APPEND_UNSAFE(source, sourceLength, static_cast<UChar32>(c));
        UChar lowered[8];
        UErrorCode status = U_ZERO_ERROR;
        const int32_t loweredLength = u_strToLower(lowered, 8, source, sourceLength, "", &status);
        if (U_FAILURE(status)) {
            appendUtf8(out, c);
            continue;
        }
        for (int32_t i = 0; i < loweredLength;) {
            UChar32 lc;
            U16_NEXT(lowered, i, loweredLength, lc);
            appendUtf8(out, static_cast<char32_t>(lc));
        }
    }
    return out;
}

std::string normalizeUnicode(std::string_view text, NormalForm form)
{
    bool ascii = true;
    for (char ch : text) {
        if (static_cast<unsigned char>(ch) >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii) // ASCII is invariant under all four forms
        return std::string(text);
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *normalizer = nullptr;
    switch (form) {
    case NormalForm::Nfc:
        normalizer = icu::Normalizer2::getNFCInstance(status);
        break;
    case NormalForm::Nfd:
        normalizer = icu::Normalizer2::getNFDInstance(status);
        break;
    case NormalForm::Nfkc:
        normalizer = icu::Normalizer2::getNFKCInstance(status);
        break;
    case NormalForm::Nfkd:
        normalizer = icu::Normalizer2::getNFKDInstance(status);
        break;
    }
    if (U_FAILURE(status) || !normalizer)
        throw Error(std::string("ICU could not provide a Unicode normaliser: ") + u_errorName(status));
    const icu::UnicodeString source =
        icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
    const icu::UnicodeString normalized = normalizer->normalize(source, status);
    if (U_FAILURE(status))
        throw Error(std::string("Unicode normalisation failed: ") + u_errorName(status));
    std::string out;
    normalized.toUTF8String(out);
    return out;
}

} // namespace emloc::core::unicode
