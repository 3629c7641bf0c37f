#include "tokenizer_bpe.h"

#include "emloc/api/error.h"
#include "unicode_classes.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <queue>

namespace emloc::core::text {

namespace {

uint64_t pairKey(int32_t left, int32_t right)
{
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct Symbol
{
    int32_t id;
    int32_t prev;
    int32_t next;
    bool removed;
};

struct QueuedMerge
{
    uint32_t rank;
    int32_t pos;
    int32_t newId;
};

// Lowest rank first, then leftmost position: the order of tokenizers' Merge heap.
struct MergeAfter
{
    bool operator()(const QueuedMerge &a, const QueuedMerge &b) const
    {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    }
};

std::pair<std::string, std::string> parseMerge(const nlohmann::json &entry, size_t index,
                                               const std::string &context)
{
    if (entry.is_string()) {
        const std::string line = entry.get<std::string>();
        const size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
            throw Error(context + ": merges[" + std::to_string(index) + "] '" + line +
                        "' is not two tokens separated by one space");
        return {line.substr(0, space), line.substr(space + 1)};
    }
    if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string())
        return {entry[0].get<std::string>(), entry[1].get<std::string>()};
    throw Error(context + ": merges[" + std::to_string(index) + "] must be \"a b\" or [\"a\", \"b\"], got " +
                entry.dump());
}

std::string optionalString(const nlohmann::json &model, const char *name, const std::string &context)
{
    if (!model.contains(name) || model[name].is_null())
        return {};
    if (!model[name].is_string())
        throw Error(context + ": field '" + name + "' must be a string or null");
    return model[name].get<std::string>();
}

} // namespace

BpeModel::BpeModel(const nlohmann::json &model, const std::string &context) : m_context(context)
{
    if (!model.contains("vocab") || !model["vocab"].is_object())
        throw Error(context + ": the BPE model has no 'vocab' object");
    int64_t maxId = -1;
    for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
            it.value().get<int64_t>() > INT32_MAX)
            throw Error(context + ": vocab entry '" + it.key() + "' has no valid id");
        const int64_t id = it.value().get<int64_t>();
        m_vocab[it.key()] = static_cast<int32_t>(id);
        maxId = std::max(maxId, id);
    }
    m_idToToken.resize(static_cast<size_t>(maxId + 1));
    m_hasId.assign(static_cast<size_t>(maxId + 1), false);
    for (const auto &entry : m_vocab) {
        m_idToToken[entry.second] = entry.first;
        m_hasId[entry.second] = true;
    }

    m_continuingSubwordPrefix = optionalString(model, "continuing_subword_prefix", context);
    m_endOfWordSuffix = optionalString(model, "end_of_word_suffix", context);
    m_unkToken = optionalString(model, "unk_token", context);
    m_hasUnk = model.contains("unk_token") && model["unk_token"].is_string();
    m_fuseUnk = model.value("fuse_unk", false);
    m_byteFallback = model.value("byte_fallback", false);
    m_ignoreMerges = model.value("ignore_merges", false);

    for (const auto &entry : m_vocab) {
        size_t pos = 0;
        if (entry.first.empty())
            continue;
        const char32_t c = unicode::nextCodePoint(entry.first, pos);
        if (pos == entry.first.size())
            m_charIds[c] = entry.second;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        const auto it = m_vocab.find(name);
        m_byteIds[b] = it == m_vocab.end() ? -1 : it->second;
    }

    nlohmann::json merges = model.value("merges", nlohmann::json::array());
    if (merges.is_null())
        merges = nlohmann::json::array();
    if (!merges.is_array())
        throw Error(context + ": 'merges' must be a list");
    m_merges.reserve(merges.size());
    const size_t prefixLength = m_continuingSubwordPrefix.size();
    for (size_t i = 0; i < merges.size(); ++i) {
        const auto [left, right] = parseMerge(merges[i], i, context);
        const auto leftIt = m_vocab.find(left);
        const auto rightIt = m_vocab.find(right);
        const std::string merged = left + (right.size() >= prefixLength ? right.substr(prefixLength) : right);
        const auto mergedIt = m_vocab.find(merged);
        const std::string *missing = leftIt == m_vocab.end()     ? &left
                                     : rightIt == m_vocab.end()  ? &right
                                     : mergedIt == m_vocab.end() ? &merged
                                                                 : nullptr;
        if (missing)
            throw Error(context + ": merges[" + std::to_string(i) + "] refers to the token '" + *missing +
                        "', which is not in the vocab");
        // Later duplicates win, as when tokenizers collects the merges into its map.
        m_merges[pairKey(leftIt->second, rightIt->second)] =
            MergeTarget{static_cast<uint32_t>(i), mergedIt->second};
    }
}

int64_t BpeModel::tokenToId(const std::string &token) const
{
    const auto it = m_vocab.find(token);
    return it == m_vocab.end() ? -1 : it->second;
}

const std::string *BpeModel::idToToken(int64_t id) const
{
    if (id < 0 || id >= static_cast<int64_t>(m_idToToken.size()) || !m_hasId[static_cast<size_t>(id)])
        return nullptr;
    return &m_idToToken[static_cast<size_t>(id)];
}

const BpeModel::MergeTarget *BpeModel::findMerge(int32_t left, int32_t right) const
{
    const auto it = m_merges.find(pairKey(left, right));
    return it == m_merges.end() ? nullptr : &it->second;
}

std::vector<int32_t> BpeModel::mergeWord(std::string_view word) const
{
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    const auto add = [&symbols](int32_t id) {
        const auto index = static_cast<int32_t>(symbols.size());
        if (index > 0)
            symbols.back().next = index;
        symbols.push_back(Symbol{id, index - 1, -1, false});
    };
    const bool plainChars = m_continuingSubwordPrefix.empty() && m_endOfWordSuffix.empty();
    int32_t pendingUnk = -1;
    size_t pos = 0;
    while (pos < word.size()) {
        const size_t start = pos;
        const char32_t c = unicode::nextCodePoint(word, pos);
        int32_t id = -1;
        std::string piece;
        if (plainChars) {
            const auto it = m_charIds.find(c);
            if (it != m_charIds.end())
                id = it->second;
        } else {
            piece = std::string(start > 0 ? m_continuingSubwordPrefix : "") +
                    std::string(word.substr(start, pos - start)) +
                    (pos == word.size() ? m_endOfWordSuffix : std::string());
            const auto it = m_vocab.find(piece);
            if (it != m_vocab.end())
                id = it->second;
        }
        if (id >= 0) {
            if (pendingUnk >= 0) {
                add(pendingUnk);
                pendingUnk = -1;
            }
            add(id);
            continue;
        }
        if (m_byteFallback) {
            const std::string_view bytes =
                plainChars ? word.substr(start, pos - start) : std::string_view(piece);
            bool allKnown = true;
            for (char b : bytes)
                allKnown = allKnown && m_byteIds[static_cast<unsigned char>(b)] >= 0;
            if (allKnown) {
                // As tokenizers: a pending unknown is not flushed before byte tokens.
                for (char b : bytes)
                    add(m_byteIds[static_cast<unsigned char>(b)]);
                continue;
            }
        }
        if (m_hasUnk) {
            const auto unkIt = m_vocab.find(m_unkToken);
            if (unkIt == m_vocab.end())
                throw Error(m_context + ": the unk_token '" + m_unkToken + "' is not in the vocab");
            if (pendingUnk >= 0 && !m_fuseUnk)
                add(pendingUnk);
            pendingUnk = unkIt->second;
        }
        // Without an unk token an unknown character is dropped, as tokenizers does.
    }
    if (pendingUnk >= 0)
        add(pendingUnk);

    std::priority_queue<QueuedMerge, std::vector<QueuedMerge>, MergeAfter> queue;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        if (const MergeTarget *m = findMerge(symbols[i].id, symbols[i + 1].id))
            queue.push(QueuedMerge{m->rank, static_cast<int32_t>(i), m->newId});
    }
    while (!queue.empty()) {
        const QueuedMerge top = queue.top();
        queue.pop();
        Symbol &current = symbols[top.pos];
        if (current.removed || current.next < 0)
            continue;
        const Symbol right = symbols[current.next];
        // Skip queue entries made stale by an earlier merge.
        const MergeTarget *still = findMerge(current.id, right.id);
        if (!still || still->newId != top.newId)
            continue;
        const int32_t rightPos = current.next;
        current.id = top.newId;
        current.next = right.next;
        symbols[rightPos].removed = true;
        if (right.next >= 0)
            symbols[right.next].prev = top.pos;
        if (symbols[top.pos].prev >= 0) {
            const int32_t prev = symbols[top.pos].prev;
            if (const MergeTarget *m = findMerge(symbols[prev].id, symbols[top.pos].id))
                queue.push(QueuedMerge{m->rank, prev, m->newId});
        }
        if (symbols[top.pos].next >= 0) {
            if (const MergeTarget *m = findMerge(symbols[top.pos].id, symbols[symbols[top.pos].next].id))
                queue.push(QueuedMerge{m->rank, top.pos, m->newId});
        }
    }
    std::vector<int32_t> ids;
    ids.reserve(symbols.size());
    for (const Symbol &symbol : symbols) {
        if (!symbol.removed)
            ids.push_back(symbol.id);
    }
    return ids;
}

void BpeModel::tokenize(std::string_view word, std::vector<int64_t> &ids) const
{
    if (word.empty())
        return;
    const std::string key(word);
    if (m_ignoreMerges) {
        const auto it = m_vocab.find(key);
        if (it != m_vocab.end()) {
            ids.push_back(it->second);
            return;
        }
    }
    {
        std::shared_lock<std::shared_mutex> lock(m_cacheMutex);
        const auto it = m_cache.find(key);
        if (it != m_cache.end()) {
            ids.insert(ids.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> merged = mergeWord(word);
    ids.insert(ids.end(), merged.begin(), merged.end());
    std::unique_lock<std::shared_mutex> lock(m_cacheMutex);
    if (m_cache.size() < kCacheCapacity && word.size() <= kMaxCachedWordBytes)
        m_cache.emplace(key, std::move(merged));
}

} // namespace emloc::core::text
