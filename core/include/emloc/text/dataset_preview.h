#pragma once

#include "emloc/api/job.h"
#include "emloc/text/dataset_tokenize.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

// Token lengths (before truncation) in equal-width bins: bin i holds lengths in [edges[i], edges[i+1]).
struct TokenLengthHistogram
{
    std::vector<int64_t> edges;
    std::vector<int64_t> counts;
};

// A run of the rendered example that is trained (assistant / response tokens) or masked.
struct RenderedSegment
{
    std::string text;
    bool trained = false;
};

// What a dataset turns into under a template, tokenizer and maximum length.
struct DatasetStatistics
{
    std::string path;
    std::string fileType;     // "jsonl", "json", "csv", "tsv", "text"
    std::string format;       // record format in use ("alpaca", ...)
    std::string templateName; // "jinja (model)", "chatml", ...
    std::vector<std::string> warnings;
    int64_t records = 0; // read from the file
    int64_t used = 0;
    int64_t skipped = 0;
    std::vector<std::pair<std::string, int64_t>> skipReasons; // reason -> records, in first-seen order
    std::vector<std::string> skipDetails;                     // the first few, naming their records
    int64_t truncated = 0;
    int64_t notPrefixStable = 0; // records where only the final answer could be located
    int64_t maxLengthOption = 0;
    int64_t tokens = 0;        // after truncation, used records
    int64_t trainedTokens = 0; // labels that are not ignored
    double maskedFraction = 0; // 1 - trainedTokens / tokens
    double meanLength = 0;     // before truncation
    int64_t minLength = 0;
    int64_t maxLength = 0;
    TokenLengthHistogram histogram;
    int64_t recordsWithImages = 0; // read records with at least one image
    int64_t images = 0;            // in used records
    int64_t imageTiles = 0;        // their tiles (a vision-language model's tiling)
    int64_t maxImagesPerRecord = 0;
    int64_t maxTilesPerImage = 0;
    int64_t exampleRecord = 0; // the record shown in exampleSegments (first used one)
    std::vector<RenderedSegment> exampleSegments;

    nlohmann::json toJson() const;
};

// How a vision-language model's records become tokens (vision/image_dataset.h makes one for a model).
struct ImageTokens
{
    // Replaces a record's image placeholders with its images' tokens (in place) and returns each
    // image's tile count (vision/image_prompt.h's expandRecordImages).
    std::function<std::vector<int64_t>(DatasetRecord &record)> expand;
    int64_t contextTokenId = -1; // the token that stands for one image row (-1: not checked)
    int64_t tokensPerTile = 0;
};

struct PrepareOptions
{
    DatasetReadOptions read;
    TokenizeOptions tokenize;
    int histogramBins = 10;
    bool keepExamples = true;  // false: statistics only, memory stays flat however large the file
    bool requireUsable = true; // throw Error when no record can be trained on
    ImageTokens images;        // expand unset: records with images are skipped (a text model cannot see them)
};

struct PreparedDataset
{
    std::vector<TokenizedExample> examples; // empty when keepExamples is false
    DatasetStatistics statistics;
};

// Streams the file through reading, rendering, tokenization and masking. Reports progress as stage
// "dataset" and honours pause/cancel through `feedback` (may be null). Throws Error for unreadable or
// malformed files, an empty dataset, and (requireUsable) when every record is skipped, listing why.
PreparedDataset prepareDataset(const std::string &path, const ChatTemplate &chatTemplate,
                               const Tokenizer &tokenizer, const PrepareOptions &options,
                               Feedback *feedback = nullptr);

// Splits an example's tokens into runs of trained and masked text.
std::vector<RenderedSegment> renderedSegments(const TokenizedExample &example, const Tokenizer &tokenizer);

} // namespace emloc::core
