#pragma once
// The BPE model of tokenizer.json, merging exactly as tokenizers' Word::merge_all does: a priority
// queue of (rank, position) over adjacent symbol pairs, with a cache of whole words.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace emloc::core::text {

class BpeModel
{
public:
    // Error names `context` and the offending field (missing vocab, merge of an unknown token, ...).
    BpeModel(const nlohmann::json &model, const std::string &context);

    // Appends the ids of one pre-tokenized word.
    void tokenize(std::string_view word, std::vector<int64_t> &ids) const;

    int64_t tokenToId(const std::string &token) const; // -1 when absent
    const std::string *idToToken(int64_t id) const;    // null when absent
    int64_t maxId() const { return static_cast<int64_t>(m_idToToken.size()) - 1; }

private:
    struct MergeTarget
    {
        uint32_t rank;
        int32_t newId;
    };
    std::vector<int32_t> mergeWord(std::string_view word) const;
    const MergeTarget *findMerge(int32_t left, int32_t right) const;

    std::unordered_map<std::string, int32_t> m_vocab;
    std::vector<std::string> m_idToToken;
    std::vector<bool> m_hasId;
    std::unordered_map<uint64_t, MergeTarget> m_merges;
    std::unordered_map<char32_t, int32_t> m_charIds; // single-character tokens, for the common no-affix case
    std::string m_unkToken;
    std::string m_continuingSubwordPrefix;
    std::string m_endOfWordSuffix;
    bool m_hasUnk = false;
    bool m_fuseUnk = false;
    bool m_byteFallback = false;
    bool m_ignoreMerges = false;
    int32_t m_byteIds[256];

    // Words seen before; guarded because encode() may run on several threads at once.
    mutable std::shared_mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> m_cache;
    static constexpr size_t kCacheCapacity = 200000;
    // Long "words" (a whole text without pre-tokenizer, as in Llama 2) rarely repeat; keep them out.
    static constexpr size_t kMaxCachedWordBytes = 256;
    std::string m_context;
};

} // namespace emloc::core::text
