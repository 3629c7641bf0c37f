#pragma once
// Added tokens of tokenizer.json and the first step of encoding: the input is split on them before
// normalisation (tokens with normalized=false) and after it (normalized=true), finding matches
// leftmost-longest as tokenizers' Aho-Corasick automaton does, with single_word/lstrip/rstrip.

#include "tokenizer_components.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace emloc::core::text {

struct AddedToken
{
    std::string content;
    int64_t id = -1;
    bool singleWord = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
    bool special = false;
    // What decoding (and idToToken) shows: the normalized content for normalized tokens, so the
    // decoder can invert the normalizer, as tokenizers' simple_id_to_token does.
    std::string decodedForm;
};

class AddedVocabulary
{
public:
    // `normalizer` (may be null) turns the normalized tokens into the patterns they match.
    AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer *normalizer);

    // The pieces of the input: added tokens resolved, the rest normalised. Empty pieces are dropped.
    Pieces extractAndNormalize(const std::string &text, const Normalizer *normalizer) const;

    const AddedToken *byId(int64_t id) const;
    int64_t idOf(const std::string &content) const; // -1 when absent
    bool isSpecialContent(const std::string &content) const { return m_specialContents.count(content) > 0; }
    int64_t maxId() const;

private:
    // A byte trie for leftmost-longest matching of one group of tokens.
    class Matcher
    {
    public:
        void add(const std::string &pattern, size_t tokenIndex);
        bool empty() const { return m_terminal.size() <= 1; }
        // Non-overlapping (start, end, tokenIndex) matches, leftmost-longest.
        std::vector<std::tuple<size_t, size_t, size_t>> findAll(const std::string &text) const;

    private:
        std::vector<std::unordered_map<unsigned char, int32_t>> m_children{1};
        std::vector<int64_t> m_terminal{-1}; // token index ending at each node, -1 for none
        bool m_firstByte[256] = {};
    };

    void split(Pieces &pieces, const Matcher &matcher) const;

    std::vector<AddedToken> m_tokens;
    std::unordered_map<int64_t, size_t> m_indexById;
    std::unordered_map<std::string, int64_t> m_idByContent;
    std::unordered_set<std::string> m_specialContents;
    Matcher m_raw;
    Matcher m_normalized;
};

} // namespace emloc::core::text
