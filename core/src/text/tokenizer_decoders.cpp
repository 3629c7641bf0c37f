#include "emloc/api/error.h"
#include "emloc/io/byte_level.h"
#include "tokenizer_components.h"
#include "tokenizer_pattern.h"
#include "unicode_classes.h"

namespace emloc::core::text {

namespace {

std::u32string toCodePoints(std::string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size())
        out.push_back(unicode::nextCodePoint(text, pos));
    return out;
}

std::string fromCodePoints(const char32_t *begin, const char32_t *end)
{
    std::string out;
    for (const char32_t *c = begin; c != end; ++c)
        unicode::appendUtf8(out, *c);
    return out;
}

class ByteLevelDecoder : public Decoder
{
public:
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        const ByteLevelTable &table = ByteLevelTable::instance();
        std::string bytes;
        for (const std::string &token : tokens) {
            // A token with a character outside the table (an added token with a plain space, say)
            // contributes its UTF-8 bytes unchanged.
            std::string mapped;
            bool allMapped = true;
            size_t pos = 0;
            while (pos < token.size()) {
                const int byte = table.byteFor(unicode::nextCodePoint(token, pos));
                if (byte < 0) {
                    allMapped = false;
                    break;
                }
                mapped.push_back(static_cast<char>(byte));
            }
            bytes += allMapped ? mapped : token;
        }
        return {unicode::fromUtf8Lossy(bytes)};
    }
};

class ReplaceDecoder : public Decoder
{
public:
    ReplaceDecoder(TextPattern pattern, std::string content)
        : m_pattern(std::move(pattern)), m_content(std::move(content))
    {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        for (std::string &token : tokens)
            token = m_pattern.replaceAll(token, m_content);
        return tokens;
    }

private:
    TextPattern m_pattern;
    std::string m_content;
};

// <0xNN> tokens: runs of them become their bytes when those form valid UTF-8, else one U+FFFD each.
class ByteFallbackDecoder : public Decoder
{
public:
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string pending;
        const auto flush = [&]() {
            if (pending.empty())
                return;
            if (unicode::findInvalidUtf8(pending) == std::string::npos) {
                out.push_back(pending);
            } else {
                for (size_t i = 0; i < pending.size(); ++i)
                    out.emplace_back("\xEF\xBF\xBD");
            }
            pending.clear();
        };
        for (std::string &token : tokens) {
            int byte = -1;
            if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>')
                byte = parseHexByte(token[3], token[4]);
            if (byte >= 0) {
                pending.push_back(static_cast<char>(byte));
            } else {
                flush();
                out.push_back(std::move(token));
            }
        }
        flush();
        return out;
    }

private:
    static int hexDigit(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }
    // Rust's u8::from_str_radix(.., 16) on two characters: also accepts a leading '+'.
    static int parseHexByte(char high, char low)
    {
        const int l = hexDigit(low);
        if (l < 0)
            return -1;
        if (high == '+')
            return l;
        const int h = hexDigit(high);
        return h < 0 ? -1 : h * 16 + l;
    }
};

class FuseDecoder : public Decoder
{
public:
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        std::string joined;
        for (const std::string &token : tokens)
            joined += token;
        return {joined};
    }
};

class StripDecoder : public Decoder
{
public:
    StripDecoder(char32_t content, size_t start, size_t stop)
        : m_content(content), m_start(start), m_stop(stop)
    {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        for (std::string &token : tokens) {
            const std::u32string chars = toCodePoints(token);
            size_t startCut = 0;
            for (size_t i = 0; i < m_start && i < chars.size() && chars[i] == m_content; ++i)
                startCut = i + 1;
            size_t stopCut = chars.size();
            for (size_t i = 0; i < m_stop && i < chars.size(); ++i) {
                const size_t index = chars.size() - i - 1;
                if (chars[index] != m_content)
                    break;
                stopCut = index;
            }
            token = startCut < stopCut ? fromCodePoints(chars.data() + startCut, chars.data() + stopCut) : "";
        }
        return tokens;
    }

private:
    char32_t m_content;
    size_t m_start;
    size_t m_stop;
};

class MetaspaceDecoder : public Decoder
{
public:
    MetaspaceDecoder(char32_t replacement, bool prepends) : m_replacement(replacement), m_prepends(prepends)
    {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            size_t pos = 0;
            while (pos < tokens[i].size()) {
                const char32_t c = unicode::nextCodePoint(tokens[i], pos);
                if (c != m_replacement)
                    unicode::appendUtf8(out, c);
                else if (i != 0 || !m_prepends) // as tokenizers: every replacement of the first token goes
                    out.push_back(' ');
            }
            tokens[i] = std::move(out);
        }
        return tokens;
    }

private:
    char32_t m_replacement;
    bool m_prepends;
};

class SequenceDecoder : public Decoder
{
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : m_steps(std::move(steps)) {}
    std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override
    {
        for (const auto &step : m_steps)
            tokens = step->decodeChain(std::move(tokens));
        return tokens;
    }

private:
    std::vector<std::unique_ptr<Decoder>> m_steps;
};

size_t countField(const nlohmann::json &json, const char *name, const std::string &context)
{
    if (!json.contains(name) || !json[name].is_number_integer() || json[name].get<int64_t>() < 0)
        throw Error(context + ": missing non-negative integer field '" + name + "'");
    return json[name].get<size_t>();
}

} // namespace

std::unique_ptr<Decoder> makeDecoder(const nlohmann::json &json, const std::string &context)
{
    if (json.is_null())
        return nullptr;
    const std::string type = componentType(json, context);
    const std::string where = context + " (" + type + ")";
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelDecoder>();
    if (type == "Replace")
        return std::make_unique<ReplaceDecoder>(
            TextPattern::fromJson(json.value("pattern", nlohmann::json()), where),
            stringField(json, "content", where));
    if (type == "ByteFallback")
        return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse")
        return std::make_unique<FuseDecoder>();
    if (type == "Strip")
        return std::make_unique<StripDecoder>(charField(json, "content", where),
                                              countField(json, "start", where),
                                              countField(json, "stop", where));
    if (type == "Metaspace") {
        bool prepends = true;
        if (json.contains("prepend_scheme") && json["prepend_scheme"].is_string())
            prepends = json["prepend_scheme"].get<std::string>() != "never";
        else
            prepends = boolField(json, "add_prefix_space", true, where);
        return std::make_unique<MetaspaceDecoder>(charField(json, "replacement", where), prepends);
    }
    if (type == "Sequence") {
        if (!json.contains("decoders") || !json["decoders"].is_array())
            throw Error(where + ": missing the 'decoders' list");
        std::vector<std::unique_ptr<Decoder>> steps;
        for (size_t i = 0; i < json["decoders"].size(); ++i) {
            auto step = makeDecoder(json["decoders"][i], context + ".decoders[" + std::to_string(i) + "]");
            if (step)
                steps.push_back(std::move(step));
        }
        return std::make_unique<SequenceDecoder>(std::move(steps));
    }
    throw Error(
        where + ": the decoder type '" + type +
        "' is not supported (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)");
}

} // namespace emloc::core::text
