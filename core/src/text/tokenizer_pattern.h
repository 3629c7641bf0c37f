#pragma once
// The patterns of tokenizer.json (Split pre-tokenizer, Replace normalizer / decoder): a literal string
// or an Oniguruma regex, which PCRE2 runs in UTF + Unicode-property mode with the same results for
// the patterns tokenizers ship (\p{L}, \p{N}, \s, lookahead, (?i:...)).

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emloc::core::text {

using Range = std::pair<size_t, size_t>; // byte offsets [first, second)

class TextPattern
{
public:
    static TextPattern literal(std::string text);
    // Error names `context` (file and component) when PCRE2 rejects the pattern.
    static TextPattern regex(const std::string &pattern, const std::string &context);
    // {"String": "..."} or {"Regex": "..."} as tokenizer.json writes them.
    static TextPattern fromJson(const nlohmann::json &json, const std::string &context);

    // Non-overlapping matches left to right, as tokenizers' find_iter reports them (an empty match
    // right after the previous match is skipped). `text` must be valid UTF-8.
    std::vector<Range> findAll(std::string_view text) const;
    // Every match replaced by `replacement`.
    std::string replaceAll(std::string_view text, std::string_view replacement) const;

private:
    struct Compiled;
    std::string m_literal;
    std::shared_ptr<const Compiled> m_compiled; // null for a literal
};

// A pattern's matches as a partition of `text`: (range, isMatch) covering all of it, as
// tokenizers' Pattern::find_matches returns.
std::vector<std::pair<Range, bool>> partitionByMatches(std::string_view text,
                                                       const std::vector<Range> &matches);

} // namespace emloc::core::text
