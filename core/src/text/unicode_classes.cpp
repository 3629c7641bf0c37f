#include "unicode_classes.h"

#include "emloc/api/error.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

namespace emloc::core::unicode {

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
