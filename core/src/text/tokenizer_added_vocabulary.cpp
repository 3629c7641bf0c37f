#include "tokenizer_added_vocabulary.h"

#include "unicode_classes.h"

#include <algorithm>

namespace emloc::core::text {

namespace {

// The regex crate's \w / \s tests that tokenizers applies around single_word / lstrip / rstrip tokens.
bool endsWithWord(std::string_view text)
{
    if (text.empty())
        return false;
    size_t start = unicode::previousCodePointStart(text, text.size());
    return unicode::isWordChar(unicode::nextCodePoint(text, start));
}

bool startsWithWord(std::string_view text)
{
    size_t pos = 0;
    return !text.empty() && unicode::isWordChar(unicode::nextCodePoint(text, pos));
}

// Start of the whitespace run that ends `text`.
size_t trailingSpaceStart(std::string_view text)
{
    size_t end = text.size();
    while (end > 0) {
        const size_t start = unicode::previousCodePointStart(text, end);
        size_t pos = start;
        if (!unicode::isWhitespace(unicode::nextCodePoint(text, pos)))
            break;
        end = start;
    }
    return end;
}

// Length of the whitespace run that starts `text`.
size_t leadingSpaceLength(std::string_view text)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t next = pos;
        if (!unicode::isWhitespace(unicode::nextCodePoint(text, next)))
            break;
        pos = next;
    }
    return pos;
}

} // namespace

void AddedVocabulary::Matcher::add(const std::string &pattern, size_t tokenIndex)
{
    if (pattern.empty())
        return;
    int32_t node = 0;
    for (char ch : pattern) {
        const auto byte = static_cast<unsigned char>(ch);
        const auto it = m_children[node].find(byte);
        if (it != m_children[node].end()) {
            node = it->second;
            continue;
        }
        const auto child = static_cast<int32_t>(m_children.size());
        m_children[node][byte] = child;
        m_children.emplace_back();
        m_terminal.push_back(-1);
        node = child;
    }
    if (m_terminal[node] < 0) // the first of identical patterns wins
        m_terminal[node] = static_cast<int64_t>(tokenIndex);
    m_firstByte[static_cast<unsigned char>(pattern[0])] = true;
}

std::vector<std::tuple<size_t, size_t, size_t>>
AddedVocabulary::Matcher::findAll(const std::string &text) const
{
    std::vector<std::tuple<size_t, size_t, size_t>> matches;
    size_t pos = 0;
    while (pos < text.size()) {
        if (!m_firstByte[static_cast<unsigned char>(text[pos])]) {
            ++pos;
            continue;
        }
        int32_t node = 0;
        size_t bestEnd = 0;
        int64_t bestToken = -1;
        for (size_t i = pos; i < text.size(); ++i) {
            const auto it = m_children[node].find(static_cast<unsigned char>(text[i]));
            if (it == m_children[node].end())
                break;
            node = it->second;
            if (m_terminal[node] >= 0) {
                bestEnd = i + 1;
                bestToken = m_terminal[node];
            }
        }
        if (bestToken < 0) {
            ++pos;
            continue;
        }
        matches.emplace_back(pos, bestEnd, static_cast<size_t>(bestToken));
        pos = bestEnd;
    }
    return matches;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer *normalizer)
{
    for (AddedToken &token : tokens) {
        if (token.content.empty())
            continue;
        if (token.special)
            m_specialContents.insert(token.content);
        const auto existing = m_idByContent.find(token.content);
        if (existing != m_idByContent.end()) {
            // A repeated content updates the earlier entry, as tokenizers' add_tokens does.
            m_tokens[m_indexById[existing->second]] = token;
            continue;
        }
        m_idByContent[token.content] = token.id;
        m_indexById[token.id] = m_tokens.size();
        m_tokens.push_back(std::move(token));
    }
    for (AddedToken &token : m_tokens) {
        token.decodedForm = token.content;
        if (token.normalized && normalizer)
            normalizer->normalize(token.decodedForm);
    }
    // Special tokens first, then the others, each in file order: tokenizers' trie order.
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < m_tokens.size(); ++i) {
            const AddedToken &token = m_tokens[i];
            if (token.special != (pass == 0))
                continue;
            if (!token.normalized) {
                m_raw.add(token.content, i);
                continue;
            }
            m_normalized.add(token.decodedForm, i);
        }
    }
}

void AddedVocabulary::split(Pieces &pieces, const Matcher &matcher) const
{
    Pieces out;
    out.reserve(pieces.size());
    for (Piece &piece : pieces) {
        if (piece.addedId >= 0 || matcher.empty()) {
            out.push_back(std::move(piece));
            continue;
        }
        const std::string &sentence = piece.text;
        const auto pushText = [&](size_t start, size_t end) {
            if (start >= end)
                return;
            Piece sub;
            sub.text = sentence.substr(start, end - start);
            sub.atOriginalStart = piece.atOriginalStart && start == 0;
            out.push_back(std::move(sub));
        };
        size_t startOffset = 0;
        for (const auto &[matchStart, matchEnd, index] : matcher.findAll(sentence)) {
            size_t start = matchStart;
            size_t stop = matchEnd;
            const AddedToken &token = m_tokens[index];
            if (token.singleWord) {
                const bool startSpace =
                    start == 0 || !endsWithWord(std::string_view(sentence).substr(0, start));
                const bool stopSpace =
                    stop == sentence.size() || !startsWithWord(std::string_view(sentence).substr(stop));
                if (!startSpace || !stopSpace)
                    continue;
            }
            if (token.lstrip)
                start =
                    std::max(trailingSpaceStart(std::string_view(sentence).substr(0, start)), startOffset);
            if (token.rstrip)
                stop += leadingSpaceLength(std::string_view(sentence).substr(stop));
            pushText(startOffset, start);
            Piece added;
            added.text = sentence.substr(start, stop - start);
            added.addedId = token.id;
            out.push_back(std::move(added));
            startOffset = stop;
        }
        pushText(startOffset, sentence.size());
    }
    pieces = std::move(out);
}

Pieces AddedVocabulary::extractAndNormalize(const std::string &text, const Normalizer *normalizer) const
{
    Pieces pieces;
    if (text.empty())
        return pieces;
    Piece whole;
    whole.text = text;
    whole.atOriginalStart = true;
    pieces.push_back(std::move(whole));
    split(pieces, m_raw);
    if (normalizer) {
        for (Piece &piece : pieces) {
            if (piece.addedId < 0)
                normalizer->normalize(piece.text);
        }
        pieces.erase(std::remove_if(pieces.begin(), pieces.end(),
                                    [](const Piece &p) { return p.addedId < 0 && p.text.empty(); }),
                     pieces.end());
    }
    split(pieces, m_normalized);
    return pieces;
}

const AddedToken *AddedVocabulary::byId(int64_t id) const
{
    const auto it = m_indexById.find(id);
    return it == m_indexById.end() ? nullptr : &m_tokens[it->second];
}

int64_t AddedVocabulary::idOf(const std::string &content) const
{
    const auto it = m_idByContent.find(content);
    return it == m_idByContent.end() ? -1 : it->second;
}

int64_t AddedVocabulary::maxId() const
{
    int64_t maxId = -1;
    for (const AddedToken &token : m_tokens)
        maxId = std::max(maxId, token.id);
    return maxId;
}

} // namespace emloc::core::text
