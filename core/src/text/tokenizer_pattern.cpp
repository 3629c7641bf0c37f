#include "tokenizer_pattern.h"

#include "emloc/api/error.h"
#include "unicode_classes.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace emloc::core::text {

struct TextPattern::Compiled
{
    pcre2_code *code = nullptr;
    ~Compiled() { pcre2_code_free(code); }
};

namespace {

struct MatchData
{
    pcre2_match_data *data = nullptr;
    pcre2_match_context *context = nullptr;
    pcre2_jit_stack *stack = nullptr;
    ~MatchData()
    {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
    }
};

// One match at or after `start`; false when there is none.
bool matchAt(const pcre2_code *code, MatchData &match, std::string_view text, size_t start, Range &found)
{
    for (;;) {
        const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                                   PCRE2_NO_UTF_CHECK, match.data, match.context);
        if (rc == PCRE2_ERROR_NOMATCH)
            return false;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !match.stack) {
            // Long runs (e.g. megabytes of spaces) can outgrow the default 32 KiB JIT stack.
            match.stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
            match.context = pcre2_match_context_create(nullptr);
            pcre2_jit_stack_assign(match.context, nullptr, match.stack);
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof(message));
            throw Error(std::string("tokenizer regex failed while matching: ") +
                        reinterpret_cast<const char *>(message));
        }
        const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match.data);
        found = {ovector[0], ovector[1]};
        return true;
    }
}

} // namespace

TextPattern TextPattern::literal(std::string text)
{
    TextPattern pattern;
    pattern.m_literal = std::move(text);
    return pattern;
}

TextPattern TextPattern::regex(const std::string &source, const std::string &context)
{
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                     PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr);
    if (!code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(errorCode, message, sizeof(message));
        throw Error(context + ": the regex pattern '" + source + "' is not supported (" +
                    reinterpret_cast<const char *>(message) + " at offset " + std::to_string(errorOffset) +
                    ")");
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // falls back to the interpreter where JIT is unavailable
    auto compiled = std::make_shared<Compiled>();
    compiled->code = code;
    TextPattern pattern;
    pattern.m_compiled = std::move(compiled);
    return pattern;
}

TextPattern TextPattern::fromJson(const nlohmann::json &json, const std::string &context)
{
    if (json.is_object() && json.contains("String") && json["String"].is_string())
        return literal(json["String"].get<std::string>());
    if (json.is_object() && json.contains("Regex") && json["Regex"].is_string())
        return regex(json["Regex"].get<std::string>(), context);
    throw Error(context + ": 'pattern' must be {\"String\": ...} or {\"Regex\": ...}, got " + json.dump());
}

std::vector<Range> TextPattern::findAll(std::string_view text) const
{
    std::vector<Range> matches;
    if (!m_compiled) {
        if (m_literal.empty())
            return matches;
        size_t pos = 0;
        while ((pos = text.find(m_literal, pos)) != std::string_view::npos) {
            matches.emplace_back(pos, pos + m_literal.size());
            pos += m_literal.size();
        }
        return matches;
    }
    MatchData match;
    match.data = pcre2_match_data_create_from_pattern(m_compiled->code, nullptr);
    size_t searchFrom = 0;
    bool haveLastEnd = false;
    size_t lastEnd = 0;
    while (searchFrom <= text.size()) {
        Range found;
        if (!matchAt(m_compiled->code, match, text, searchFrom, found))
            break;
        if (found.first == found.second && haveLastEnd && lastEnd == found.second) {
            // An empty match right after the previous one: step one character, as onig's find_iter.
            if (searchFrom >= text.size())
                break;
            searchFrom += unicode::sequenceLength(static_cast<unsigned char>(text[searchFrom]));
            continue;
        }
        matches.push_back(found);
        searchFrom = found.second;
        lastEnd = found.second;
        haveLastEnd = true;
    }
    return matches;
}

std::string TextPattern::replaceAll(std::string_view text, std::string_view replacement) const
{
    const std::vector<Range> matches = findAll(text);
    if (matches.empty())
        return std::string(text);
    std::string out;
    out.reserve(text.size());
    size_t previous = 0;
    for (const Range &m : matches) {
        out.append(text.substr(previous, m.first - previous));
        out.append(replacement);
        previous = m.second;
    }
    out.append(text.substr(previous));
    return out;
}

std::vector<std::pair<Range, bool>> partitionByMatches(std::string_view text,
                                                       const std::vector<Range> &matches)
{
    std::vector<std::pair<Range, bool>> parts;
    if (text.empty()) {
        parts.push_back({{0, 0}, false});
        return parts;
    }
    parts.reserve(matches.size() * 2 + 1);
    size_t previous = 0;
    for (const Range &m : matches) {
        if (previous != m.first)
            parts.push_back({{previous, m.first}, false});
        parts.push_back({m, true});
        previous = m.second;
    }
    if (previous != text.size())
        parts.push_back({{previous, text.size()}, false});
    return parts;
}

} // namespace emloc::core::text
