#include "emloc/api/error.h"
#include "tokenizer_components.h"
#include "tokenizer_pattern.h"
#include "unicode_classes.h"

namespace emloc::core::text {

std::string componentType(const nlohmann::json &json, const std::string &context)
{
    if (!json.is_object() || !json.contains("type") || !json["type"].is_string())
        throw Error(context + ": expected an object with a string \"type\", got " +
                    json.dump().substr(0, 200));
    return json["type"].get<std::string>();
}

bool boolField(const nlohmann::json &json, const char *name, bool fallback, const std::string &context)
{
    if (!json.contains(name) || json[name].is_null())
        return fallback;
    if (!json[name].is_boolean())
        throw Error(context + ": field '" + name + "' must be true or false");
    return json[name].get<bool>();
}

std::string stringField(const nlohmann::json &json, const char *name, const std::string &context)
{
    if (!json.contains(name) || !json[name].is_string())
        throw Error(context + ": missing string field '" + name + "'");
    return json[name].get<std::string>();
}

char32_t charField(const nlohmann::json &json, const char *name, const std::string &context)
{
    const std::string value = stringField(json, name, context);
    size_t pos = 0;
    const char32_t c = value.empty() ? 0 : unicode::nextCodePoint(value, pos);
    if (value.empty() || pos != value.size())
        throw Error(context + ": field '" + name + "' must be a single character, got '" + value + "'");
    return c;
}

namespace {

class UnicodeNormalizer : public Normalizer
{
public:
    explicit UnicodeNormalizer(unicode::NormalForm form) : m_form(form) {}
    void normalize(std::string &text) const override { text = unicode::normalizeUnicode(text, m_form); }

private:
    unicode::NormalForm m_form;
};

class LowercaseNormalizer : public Normalizer
{
public:
    void normalize(std::string &text) const override { text = unicode::toLowercase(text); }
};

class StripNormalizer : public Normalizer
{
public:
    StripNormalizer(bool left, bool right) : m_left(left), m_right(right) {}
    void normalize(std::string &text) const override
    {
        size_t begin = 0;
        size_t end = text.size();
        if (m_left) {
            while (begin < end) {
                size_t next = begin;
                if (!unicode::isWhitespace(unicode::nextCodePoint(text, next)))
                    break;
                begin = next;
            }
        }
        if (m_right) {
            while (end > begin) {
                const size_t start = unicode::previousCodePointStart(text, end, begin);
                size_t pos = start;
                if (!unicode::isWhitespace(unicode::nextCodePoint(text, pos)))
                    break;
                end = start;
            }
        }
        text = text.substr(begin, end - begin);
    }

private:
    bool m_left;
    bool m_right;
};

class StripAccentsNormalizer : public Normalizer
{
public:
    void normalize(std::string &text) const override
    {
        std::string out;
        out.reserve(text.size());
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t start = pos;
            const char32_t c = unicode::nextCodePoint(text, pos);
            if (c < 0x80 || !unicode::isMark(c))
                out.append(text, start, pos - start);
        }
        text = std::move(out);
    }
};

class ReplaceNormalizer : public Normalizer
{
public:
    ReplaceNormalizer(TextPattern pattern, std::string content)
        : m_pattern(std::move(pattern)), m_content(std::move(content))
    {}
    void normalize(std::string &text) const override { text = m_pattern.replaceAll(text, m_content); }

private:
    TextPattern m_pattern;
    std::string m_content;
};

class PrependNormalizer : public Normalizer
{
public:
    explicit PrependNormalizer(std::string prefix) : m_prefix(std::move(prefix)) {}
    void normalize(std::string &text) const override
    {
        if (!text.empty())
            text.insert(0, m_prefix);
    }

private:
    std::string m_prefix;
};

class SequenceNormalizer : public Normalizer
{
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : m_steps(std::move(steps)) {}
    void normalize(std::string &text) const override
    {
        for (const auto &step : m_steps)
            step->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> m_steps;
};

} // namespace

std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json &json, const std::string &context)
{
    if (json.is_null())
        return nullptr;
    const std::string type = componentType(json, context);
    const std::string where = context + " (" + type + ")";
    if (type == "NFC")
        return std::make_unique<UnicodeNormalizer>(unicode::NormalForm::Nfc);
    if (type == "NFD")
        return std::make_unique<UnicodeNormalizer>(unicode::NormalForm::Nfd);
    if (type == "NFKC")
        return std::make_unique<UnicodeNormalizer>(unicode::NormalForm::Nfkc);
    if (type == "NFKD")
        return std::make_unique<UnicodeNormalizer>(unicode::NormalForm::Nfkd);
    if (type == "Lowercase")
        return std::make_unique<LowercaseNormalizer>();
    if (type == "Strip")
        return std::make_unique<StripNormalizer>(boolField(json, "strip_left", true, where),
                                                 boolField(json, "strip_right", true, where));
    if (type == "StripAccents")
        return std::make_unique<StripAccentsNormalizer>();
    if (type == "Replace")
        return std::make_unique<ReplaceNormalizer>(
            TextPattern::fromJson(json.value("pattern", nlohmann::json()), where),
            stringField(json, "content", where));
    if (type == "Prepend")
        return std::make_unique<PrependNormalizer>(stringField(json, "prepend", where));
    if (type == "Sequence") {
        if (!json.contains("normalizers") || !json["normalizers"].is_array())
            throw Error(where + ": missing the 'normalizers' list");
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (size_t i = 0; i < json["normalizers"].size(); ++i) {
            auto step =
                makeNormalizer(json["normalizers"][i], context + ".normalizers[" + std::to_string(i) + "]");
            if (step)
                steps.push_back(std::move(step));
        }
        return std::make_unique<SequenceNormalizer>(std::move(steps));
    }
    throw Error(
        where + ": the normalizer type '" + type +
        "' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, "
        "Prepend, Sequence)");
}

} // namespace emloc::core::text
