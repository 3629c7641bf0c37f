// Deterministic shuffling, the train/validation split, and batches (padded or packed).
#include "emloc/api/error.h"
#include "emloc/text/dataset_tokenize.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace emloc::core {

std::vector<size_t> shuffledIndices(size_t n, uint64_t seed)
{
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i)
        order[i] = i;
    // std::shuffle's use of the engine is unspecified; this loop is fixed, so a seed means the same order
    // with every compiler and standard library.
    std::mt19937_64 rng(seed);
    for (size_t i = n; i > 1; --i) {
        size_t j = static_cast<size_t>(rng() % static_cast<uint64_t>(i));
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

DatasetSplit splitTrainValidation(std::vector<TokenizedExample> examples, double validationFraction,
                                  int64_t validationCount, uint64_t seed)
{
    const size_t n = examples.size();
    size_t held = 0;
    if (validationCount > 0)
        held = static_cast<size_t>(validationCount);
    else if (validationFraction > 0)
        held = static_cast<size_t>(std::llround(validationFraction * static_cast<double>(n)));
    if (validationFraction < 0 || validationFraction >= 1)
        throw Error("the validation fraction must be in [0, 1), got " + std::to_string(validationFraction));
    if (held > 0 && held >= n)
        throw Error("holding out " + std::to_string(held) + " validation examples leaves none of the " +
                    std::to_string(n) + " for training: lower the validation size");
    std::vector<char> isValidation(n, 0);
    std::vector<size_t> order = shuffledIndices(n, seed);
    for (size_t i = 0; i < held; ++i)
        isValidation[order[i]] = 1;
    DatasetSplit split;
    split.validation.reserve(held);
    split.train.reserve(n - held);
    for (size_t i = 0; i < n; ++i)
        (isValidation[i] ? split.validation : split.train).push_back(std::move(examples[i]));
    return split;
}

std::vector<std::vector<std::vector<size_t>>> planBatches(const std::vector<TokenizedExample> &examples,
                                                          const BatchOptions &options, int64_t epoch)
{
    if (options.batchSize < 1)
        throw Error("the batch size must be at least 1");
    std::vector<size_t> order;
    if (options.shuffle) {
        // Each epoch its own permutation, derived from the seed by a fixed odd multiplier (splitmix-style).
        order = shuffledIndices(examples.size(),
                                options.seed + static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ull);
    } else {
        order.resize(examples.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
    }
    std::vector<std::vector<size_t>> rows;
    if (options.packing) {
        int64_t rowLength = options.rowLength;
        for (const auto &example : examples)
            rowLength = std::max<int64_t>(rowLength, static_cast<int64_t>(example.inputIds.size()));
        std::vector<size_t> row;
        int64_t used = 0;
        for (size_t index : order) {
            int64_t length = static_cast<int64_t>(examples[index].inputIds.size());
            if (!row.empty() && used + length > rowLength) {
                rows.push_back(std::move(row));
                row.clear();
                used = 0;
            }
            row.push_back(index);
            used += length;
        }
        if (!row.empty())
            rows.push_back(std::move(row));
    } else {
        for (size_t index : order)
            rows.push_back({index});
    }
    std::vector<std::vector<std::vector<size_t>>> batches;
    for (size_t i = 0; i < rows.size(); i += static_cast<size_t>(options.batchSize)) {
        size_t end = std::min(rows.size(), i + static_cast<size_t>(options.batchSize));
        batches.emplace_back(rows.begin() + static_cast<std::ptrdiff_t>(i),
                             rows.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return batches;
}

Batch collateBatch(const std::vector<TokenizedExample> &examples,
                   const std::vector<std::vector<size_t>> &rows, const BatchOptions &options)
{
    int64_t length = 0;
    for (const auto &row : rows) {
        int64_t rowTokens = 0;
        for (size_t index : row)
            rowTokens += static_cast<int64_t>(examples.at(index).inputIds.size());
        length = std::max(length, rowTokens);
    }
    if (options.packing && options.rowLength > 0)
        length = std::max(length, options.rowLength);
    const int64_t count = static_cast<int64_t>(rows.size());
    std::vector<int64_t> ids(static_cast<size_t>(count * length), options.padId);
    std::vector<int64_t> labels(ids.size(), kIgnoreLabel);
    std::vector<int64_t> mask(ids.size(), 0);
    std::vector<int64_t> positions(ids.size(), 0);
    std::vector<int64_t> documents(ids.size(), -1);
    Batch batch;
    batch.exampleRows = rows;
    for (int64_t r = 0; r < count; ++r) {
        size_t offset = static_cast<size_t>(r * length);
        int64_t document = 0;
        for (size_t index : rows[static_cast<size_t>(r)]) {
            const TokenizedExample &example = examples[index];
            for (size_t t = 0; t < example.inputIds.size(); ++t) {
                ids[offset] = example.inputIds[t];
                // The first token of a document is never a target: in a packed row it would be predicted
                // from the previous document.
                labels[offset] = t == 0 ? kIgnoreLabel : example.labels[t];
                mask[offset] = 1;
                positions[offset] = static_cast<int64_t>(t);
                documents[offset] = document;
                batch.trainedTokens += labels[offset] != kIgnoreLabel ? 1 : 0;
                ++offset;
            }
            batch.tokens += static_cast<int64_t>(example.inputIds.size());
            batch.images.insert(batch.images.end(), example.images.begin(), example.images.end());
            ++document;
        }
    }
    auto tensor = [&](std::vector<int64_t> &data) {
        return torch::from_blob(data.data(), {count, length}, torch::kInt64).clone();
    };
    batch.inputIds = tensor(ids);
    batch.labels = tensor(labels);
    batch.attentionMask = tensor(mask);
    batch.positionIds = tensor(positions);
    batch.documentIds = tensor(documents);
    return batch;
}

} // namespace emloc::core
