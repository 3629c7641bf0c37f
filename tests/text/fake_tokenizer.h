#pragma once
// A small deterministic tokenizer for unit tests of masking and batching: special tokens first, then
// greedy longest match over a few multi-character pieces, then single bytes (id = byte value). The pieces
// include ones that cross a prompt/answer boundary (":\nY"), which is what masking must cope with.

#include "emloc/text/tokenizer.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace emloc::test {

class FakeTokenizer : public core::Tokenizer
{
public:
    FakeTokenizer()
    {
        // Ids 256+: special tokens, then merged pieces.
        for (const char *special : {"<s>", "</s>", "<|im_start|>", "<|im_end|>"})
            m_pieces.push_back({special, true});
        for (const char *piece : {":\nY", "Hello", "assistant", "user", "system", "###"})
            m_pieces.push_back({piece, false});
    }

    std::vector<int64_t> encode(const std::string &text, bool addSpecialTokens) const override
    {
        std::vector<int64_t> ids;
        if (addSpecialTokens)
            ids.push_back(tokenToId("<s>"));
        size_t pos = 0;
        while (pos < text.size()) {
            size_t bestLength = 0;
            int64_t bestId = -1;
            for (size_t i = 0; i < m_pieces.size(); ++i) {
                const std::string &piece = m_pieces[i].first;
                if (piece.size() > bestLength && text.compare(pos, piece.size(), piece) == 0) {
                    bestLength = piece.size();
                    bestId = 256 + static_cast<int64_t>(i);
                }
            }
            if (bestId < 0) {
                ids.push_back(static_cast<unsigned char>(text[pos]));
                ++pos;
            } else {
                ids.push_back(bestId);
                pos += bestLength;
            }
        }
        return ids;
    }

    std::string decode(const std::vector<int64_t> &ids, bool skipSpecialTokens) const override
    {
        std::string out;
        for (int64_t id : ids) {
            if (skipSpecialTokens && isSpecial(id))
                continue;
            out += idToToken(id);
        }
        return out;
    }

    int64_t vocabSize() const override { return 256 + static_cast<int64_t>(m_pieces.size()); }

    int64_t tokenToId(const std::string &token) const override
    {
        for (size_t i = 0; i < m_pieces.size(); ++i)
            if (m_pieces[i].first == token)
                return 256 + static_cast<int64_t>(i);
        if (token.size() == 1)
            return static_cast<unsigned char>(token[0]);
        return -1;
    }

    std::string idToToken(int64_t id) const override
    {
        if (id >= 0 && id < 256)
            return std::string(1, static_cast<char>(id));
        if (id >= 256 && id < vocabSize())
            return m_pieces[static_cast<size_t>(id - 256)].first;
        return {};
    }

    bool isSpecial(int64_t id) const override
    {
        return id >= 256 && id < vocabSize() && m_pieces[static_cast<size_t>(id - 256)].second;
    }

private:
    std::vector<std::pair<std::string, bool>> m_pieces;
};

} // namespace emloc::test
