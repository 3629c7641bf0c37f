#include "emloc/api/error.h"
#include "emloc/io/byte_level.h"
#include "tokenizer_components.h"
#include "tokenizer_pattern.h"
#include "unicode_classes.h"

#include <algorithm>
#include <functional>

namespace emloc::core::text {

namespace {

// GPT-2's pre-tokenization regex, used by the ByteLevel pre-tokenizer when use_regex is set.
constexpr const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

SplitBehavior parseBehavior(const nlohmann::json &json, const std::string &context)
{
    const std::string name = stringField(json, "behavior", context);
    if (name == "Removed")
        return SplitBehavior::Removed;
    if (name == "Isolated")
        return SplitBehavior::Isolated;
    if (name == "MergedWithPrevious")
        return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext")
        return SplitBehavior::MergedWithNext;
    if (name == "Contiguous")
        return SplitBehavior::Contiguous;
    throw Error(context + ": unknown split behavior '" + name + "'");
}

// tokenizers' NormalizedString::split: the ranges the pieces keep, given a partition into
// (range, isMatch). Empty ranges are dropped by the caller.
std::vector<Range> applyBehavior(const std::vector<std::pair<Range, bool>> &parts, SplitBehavior behavior)
{
    std::vector<Range> out;
    out.reserve(parts.size());
    bool previousMatch = false;
    switch (behavior) {
    case SplitBehavior::Isolated:
        for (const auto &part : parts)
            out.push_back(part.first);
        break;
    case SplitBehavior::Removed:
        for (const auto &part : parts) {
            if (!part.second)
                out.push_back(part.first);
        }
        break;
    case SplitBehavior::MergedWithPrevious:
        for (const auto &part : parts) {
            if (part.second && !previousMatch && !out.empty())
                out.back().second = part.first.second;
            else
                out.push_back(part.first);
            previousMatch = part.second;
        }
        break;
    case SplitBehavior::MergedWithNext:
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
            if (it->second && !previousMatch && !out.empty())
                out.back().first = it->first.first;
            else
                out.push_back(it->first);
            previousMatch = it->second;
        }
        std::reverse(out.begin(), out.end());
        break;
    case SplitBehavior::Contiguous:
        for (const auto &part : parts) {
            if (part.second == previousMatch && !out.empty())
                out.back().second = part.first.second;
            else
                out.push_back(part.first);
            previousMatch = part.second;
        }
        break;
    }
    return out;
}

// Matches of a character predicate, one character each (tokenizers' Fn(char) -> bool pattern).
std::vector<Range> findChars(std::string_view text, const std::function<bool(char32_t)> &predicate)
{
    std::vector<Range> matches;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = pos;
        if (predicate(unicode::nextCodePoint(text, pos)))
            matches.emplace_back(start, pos);
    }
    return matches;
}

// Replaces every piece still to tokenize by the non-empty ranges `split` keeps of it.
void splitPieces(Pieces &pieces, const std::function<std::vector<Range>(Piece &)> &split)
{
    Pieces out;
    out.reserve(pieces.size());
    for (Piece &piece : pieces) {
        if (piece.addedId >= 0) {
            out.push_back(std::move(piece));
            continue;
        }
        const std::vector<Range> ranges = split(piece);
        for (const Range &range : ranges) {
            if (range.first == range.second)
                continue;
            Piece sub;
            sub.text = piece.text.substr(range.first, range.second - range.first);
            sub.atOriginalStart = piece.atOriginalStart && range.first == 0;
            out.push_back(std::move(sub));
        }
    }
    pieces = std::move(out);
}

class ByteLevelPreTokenizer : public PreTokenizer
{
public:
    ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, const std::string &context)
        : m_addPrefixSpace(addPrefixSpace), m_useRegex(useRegex)
    {
        if (useRegex)
            m_pattern = TextPattern::regex(kGpt2Pattern, context);
    }

    void preTokenize(Pieces &pieces) const override
    {
        splitPieces(pieces, [this](Piece &piece) {
            if (m_addPrefixSpace && (piece.text.empty() || piece.text[0] != ' '))
                piece.text.insert(0, " ");
            if (!m_useRegex)
                return std::vector<Range>{{0, piece.text.size()}};
            return applyBehavior(partitionByMatches(piece.text, m_pattern.findAll(piece.text)),
                                 SplitBehavior::Isolated);
        });
        const ByteLevelTable &table = ByteLevelTable::instance();
        for (Piece &piece : pieces) {
            if (piece.addedId >= 0)
                continue;
            std::string mapped;
            table.encode(piece.text, mapped);
            piece.text = std::move(mapped);
        }
    }

private:
    bool m_addPrefixSpace;
    bool m_useRegex;
    TextPattern m_pattern;
};

class SplitPreTokenizer : public PreTokenizer
{
public:
    SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
        : m_pattern(std::move(pattern)), m_behavior(behavior), m_invert(invert)
    {}

    void preTokenize(Pieces &pieces) const override
    {
        splitPieces(pieces, [this](Piece &piece) {
            auto parts = partitionByMatches(piece.text, m_pattern.findAll(piece.text));
            if (m_invert) {
                for (auto &part : parts)
                    part.second = !part.second;
            }
            return applyBehavior(parts, m_behavior);
        });
    }

private:
    TextPattern m_pattern;
    SplitBehavior m_behavior;
    bool m_invert;
};

class DigitsPreTokenizer : public PreTokenizer
{
public:
    explicit DigitsPreTokenizer(bool individualDigits) : m_individualDigits(individualDigits) {}

    void preTokenize(Pieces &pieces) const override
    {
        splitPieces(pieces, [this](Piece &piece) {
            const auto parts = partitionByMatches(piece.text, findChars(piece.text, unicode::isNumeric));
            return applyBehavior(parts,
                                 m_individualDigits ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
        });
    }

private:
    bool m_individualDigits;
};

class WhitespaceSplitPreTokenizer : public PreTokenizer
{
public:
    void preTokenize(Pieces &pieces) const override
    {
        splitPieces(pieces, [](Piece &piece) {
            const auto parts = partitionByMatches(piece.text, findChars(piece.text, unicode::isWhitespace));
            return applyBehavior(parts, SplitBehavior::Removed);
        });
    }
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer
{
public:
    MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
        : m_replacement(replacement), m_replacementUtf8(unicode::toUtf8(replacement)), m_scheme(scheme),
          m_split(split)
    {}

    void preTokenize(Pieces &pieces) const override
    {
        const TextPattern space = TextPattern::literal(" ");
        splitPieces(pieces, [&](Piece &piece) {
            piece.text = space.replaceAll(piece.text, m_replacementUtf8);
            const bool startsWithReplacement =
                piece.text.compare(0, m_replacementUtf8.size(), m_replacementUtf8) == 0;
            if (!startsWithReplacement && (m_scheme == PrependScheme::Always ||
                                           (m_scheme == PrependScheme::First && piece.atOriginalStart)))
                piece.text.insert(0, m_replacementUtf8);
            if (!m_split)
                return std::vector<Range>{{0, piece.text.size()}};
            const auto parts = partitionByMatches(
                piece.text, findChars(piece.text, [this](char32_t c) { return c == m_replacement; }));
            return applyBehavior(parts, SplitBehavior::MergedWithNext);
        });
    }

private:
    char32_t m_replacement;
    std::string m_replacementUtf8;
    PrependScheme m_scheme;
    bool m_split;
};

class SequencePreTokenizer : public PreTokenizer
{
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
        : m_steps(std::move(steps))
    {}
    void preTokenize(Pieces &pieces) const override
    {
        for (const auto &step : m_steps)
            step->preTokenize(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> m_steps;
};

PrependScheme parsePrependScheme(const nlohmann::json &json, const std::string &context)
{
    if (json.contains("prepend_scheme") && json["prepend_scheme"].is_string()) {
        const std::string scheme = json["prepend_scheme"].get<std::string>();
        if (scheme == "always")
            return PrependScheme::Always;
        if (scheme == "first")
            return PrependScheme::First;
        if (scheme == "never")
            return PrependScheme::Never;
        throw Error(context + ": unknown prepend_scheme '" + scheme + "' (expected always, first or never)");
    }
    // Files older than prepend_scheme carry add_prefix_space instead.
    return boolField(json, "add_prefix_space", true, context) ? PrependScheme::Always : PrependScheme::Never;
}

} // namespace

std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json &json, const std::string &context)
{
    if (json.is_null())
        return nullptr;
    const std::string type = componentType(json, context);
    const std::string where = context + " (" + type + ")";
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelPreTokenizer>(boolField(json, "add_prefix_space", true, where),
                                                       boolField(json, "use_regex", true, where), where);
    if (type == "Split") {
        if (!json.contains("pattern"))
            throw Error(where + ": missing 'pattern'");
        return std::make_unique<SplitPreTokenizer>(TextPattern::fromJson(json["pattern"], where),
                                                   parseBehavior(json, where),
                                                   boolField(json, "invert", false, where));
    }
    if (type == "Digits")
        return std::make_unique<DigitsPreTokenizer>(boolField(json, "individual_digits", false, where));
    if (type == "WhitespaceSplit")
        return std::make_unique<WhitespaceSplitPreTokenizer>();
    if (type == "Metaspace")
        return std::make_unique<MetaspacePreTokenizer>(charField(json, "replacement", where),
                                                       parsePrependScheme(json, where),
                                                       boolField(json, "split", true, where));
    if (type == "Sequence") {
        if (!json.contains("pretokenizers") || !json["pretokenizers"].is_array())
            throw Error(where + ": missing the 'pretokenizers' list");
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (size_t i = 0; i < json["pretokenizers"].size(); ++i) {
            auto step = makePreTokenizer(json["pretokenizers"][i],
                                         context + ".pretokenizers[" + std::to_string(i) + "]");
            if (step)
                steps.push_back(std::move(step));
        }
        return std::make_unique<SequencePreTokenizer>(std::move(steps));
    }
    throw Error(
        where + ": the pre-tokenizer type '" + type +
        "' is not supported (supported: ByteLevel, Split, Digits, WhitespaceSplit, Metaspace, Sequence)");
}

} // namespace emloc::core::text
