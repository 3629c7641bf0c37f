// A dataset run through the whole text pipeline, with the statistics people check before training.
#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_overview.h"
#include "emloc/text/image_placeholders.h"

#include "emloc/api/error.h"

#include <algorithm>

namespace emloc::core {

namespace {

constexpr size_t kSkipDetailsKept = 5;

TokenLengthHistogram makeHistogram(const std::vector<int64_t> &lengths, int bins)
{
    TokenLengthHistogram histogram;
    if (lengths.empty() || bins < 1)
        return histogram;
    int64_t longest = *std::max_element(lengths.begin(), lengths.end());
    int64_t width = std::max<int64_t>(1, (longest + bins) / bins); // ceil((longest + 1) / bins)
    for (int i = 0; i <= bins; ++i)
        histogram.edges.push_back(static_cast<int64_t>(i) * width);
    histogram.counts.assign(static_cast<size_t>(bins), 0);
    for (int64_t length : lengths)
        ++histogram.counts[static_cast<size_t>(std::min<int64_t>(bins - 1, length / width))];
    return histogram;
}

} // namespace

nlohmann::json DatasetStatistics::toJson() const
{
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto &reason : skipReasons)
        reasons.push_back({{"reason", reason.first}, {"records", reason.second}});
    nlohmann::json segments = nlohmann::json::array();
    for (const auto &segment : exampleSegments)
        segments.push_back({{"text", segment.text}, {"trained", segment.trained}});
    return {{"path", path},
            {"file_type", fileType},
            {"format", format},
            {"template", templateName},
            {"warnings", warnings},
            {"records", records},
            {"used", used},
            {"skipped", skipped},
            {"skip_reasons", reasons},
            {"skip_details", skipDetails},
            {"truncated", truncated},
            {"not_prefix_stable", notPrefixStable},
            {"max_length_option", maxLengthOption},
            {"tokens", tokens},
            {"trained_tokens", trainedTokens},
            {"masked_fraction", maskedFraction},
            {"mean_length", meanLength},
            {"min_length", minLength},
            {"max_length", maxLength},
            {"histogram", {{"edges", histogram.edges}, {"counts", histogram.counts}}},
            {"images",
             {{"records_with_images", recordsWithImages},
              {"images", images},
              {"tiles", imageTiles},
              {"max_images_per_record", maxImagesPerRecord},
              {"max_tiles_per_image", maxTilesPerImage}}},
            {"example", {{"record", exampleRecord}, {"segments", segments}}}};
}

std::vector<RenderedSegment> renderedSegments(const TokenizedExample &example, const Tokenizer &tokenizer)
{
    std::vector<RenderedSegment> segments;
    size_t start = 0;
    const size_t n = example.inputIds.size();
    for (size_t i = 1; i <= n; ++i) {
        bool trained = example.labels[start] != kIgnoreLabel;
        if (i < n && (example.labels[i] != kIgnoreLabel) == trained)
            continue;
        std::vector<int64_t> run(example.inputIds.begin() + static_cast<std::ptrdiff_t>(start),
                                 example.inputIds.begin() + static_cast<std::ptrdiff_t>(i));
        segments.push_back({tokenizer.decode(run, false), trained});
        start = i;
    }
    return segments;
}

namespace {
// A record keeps its images only whole: a max_length that cuts into an image's tokens would leave the
// model rows it cannot place, so the record is skipped, saying what would make it fit.
void keepWholeImages(TokenizeResult &result, const DatasetRecord &record, const std::vector<int64_t> &tiles,
                     const ImageTokens &images)
{
    result.example.images = record.images;
    if (images.contextTokenId < 0)
        return;
    int64_t expected = 0;
    for (int64_t count : tiles)
        expected += count * images.tokensPerTile;
    const auto &ids = result.example.inputIds;
    const auto found = std::count(ids.begin(), ids.end(), images.contextTokenId);
    if (found == expected)
        return;
    result.ok = false;
    result.skipReason = "images cut by max_length";
    result.detail = "record " + std::to_string(record.number) + ": its images take " +
                    std::to_string(expected) + " tokens and max_length keeps " + std::to_string(found) +
                    " of them (the record has " + std::to_string(result.example.untruncatedLength) +
                    " tokens); raise max_length, or allow fewer tiles per image (max_dynamic_patch in "
                    "config.json, max_patches in preprocessor_config.json)";
}
} // namespace

PreparedDataset prepareDataset(const std::string &path, const ChatTemplate &chatTemplate,
                               const Tokenizer &tokenizer, const PrepareOptions &options, Feedback *feedback)
{
    PreparedDataset prepared;
    DatasetStatistics &stats = prepared.statistics;
    DatasetReader reader(path, options.read);
    stats.path = path;
    stats.fileType = datasetFileTypeName(reader.fileType());
    stats.templateName = chatTemplate.name();
    stats.warnings = chatTemplate.warnings();
    stats.maxLengthOption = options.tokenize.maxLength;
    std::vector<int64_t> lengths;
    DatasetRecord record;
    bool haveExample = false;
    while (reader.next(record)) {
        ++stats.records;
        if (feedback && stats.records % 64 == 0) {
            feedback->checkpoint();
            feedback->progress("dataset", stats.records, options.read.sampleLimit);
        }
        std::vector<int64_t> tiles;
        TokenizeResult result;
        if (!record.images.empty()) {
            ++stats.recordsWithImages;
            if (options.images.expand)
                tiles = options.images.expand(record);
        }
        if (!record.images.empty() && !options.images.expand) {
            result.skipReason = "has images (the model reads text only)";
            result.detail = "record " + std::to_string(record.number) + " has " +
                            std::to_string(record.images.size()) +
                            " image(s); train a vision-language model on it, or remove its images";
        } else {
            result = tokenizeRecord(record, chatTemplate, tokenizer, options.tokenize);
            if (result.ok && !tiles.empty())
                keepWholeImages(result, record, tiles, options.images);
        }
        if (!result.ok) {
            ++stats.skipped;
            auto it = std::find_if(stats.skipReasons.begin(), stats.skipReasons.end(),
                                   [&](const auto &entry) { return entry.first == result.skipReason; });
            if (it == stats.skipReasons.end())
                stats.skipReasons.emplace_back(result.skipReason, 1);
            else
                ++it->second;
            if (stats.skipDetails.size() < kSkipDetailsKept)
                stats.skipDetails.push_back(result.detail);
            continue;
        }
        TokenizedExample &example = result.example;
        ++stats.used;
        stats.images += static_cast<int64_t>(tiles.size());
        stats.maxImagesPerRecord = std::max(stats.maxImagesPerRecord, static_cast<int64_t>(tiles.size()));
        for (int64_t count : tiles) {
            stats.imageTiles += count;
            stats.maxTilesPerImage = std::max(stats.maxTilesPerImage, count);
        }
        stats.truncated += example.truncated ? 1 : 0;
        stats.notPrefixStable += result.notPrefixStable ? 1 : 0;
        stats.tokens += static_cast<int64_t>(example.inputIds.size());
        stats.trainedTokens += std::count_if(example.labels.begin(), example.labels.end(),
                                             [](int64_t label) { return label != kIgnoreLabel; });
        lengths.push_back(example.untruncatedLength);
        if (!haveExample) {
            haveExample = true;
            stats.exampleRecord = example.recordNumber;
            stats.exampleSegments = renderedSegments(example, tokenizer);
            // An image's context tokens, hundreds of the same token, read as one with its count.
            if (options.images.contextTokenId >= 0)
                for (RenderedSegment &segment : stats.exampleSegments)
                    segment.text =
                        collapseTokenRuns(segment.text, tokenizer.idToToken(options.images.contextTokenId));
        }
        if (options.keepExamples)
            prepared.examples.push_back(std::move(example));
    }
    stats.format = recordFormatName(reader.format());
    if (stats.records == 0)
        throw Error(path +
                    ": the dataset is empty (no records): add records, one JSON object per line for .jsonl");
    if (stats.tokens > 0)
        stats.maskedFraction =
            1.0 - static_cast<double>(stats.trainedTokens) / static_cast<double>(stats.tokens);
    if (!lengths.empty()) {
        int64_t sum = 0;
        for (int64_t length : lengths)
            sum += length;
        stats.meanLength = static_cast<double>(sum) / static_cast<double>(lengths.size());
        stats.minLength = *std::min_element(lengths.begin(), lengths.end());
        stats.maxLength = *std::max_element(lengths.begin(), lengths.end());
    }
    stats.histogram = makeHistogram(lengths, options.histogramBins);
    if (feedback)
        feedback->progress("dataset", stats.records, stats.records);
    if (options.requireUsable && stats.used == 0) {
        std::string why;
        for (const auto &reason : stats.skipReasons)
            why += (why.empty() ? "" : ", ") + reason.first + ": " + std::to_string(reason.second);
        throw Error(path + ": none of the " + std::to_string(stats.records) + " records can be trained on (" +
                    why + ")" +
                    (stats.skipDetails.empty() ? std::string() : "; first: " + stats.skipDetails.front()));
    }
    return prepared;
}

} // namespace emloc::core
