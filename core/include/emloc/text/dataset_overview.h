#pragma once
// A quick look at a training file, for the Studio's Data page: what `emloc data inspect` and training
// would read, without a tokenizer.

#include "emloc/text/dataset_reader.h"

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

struct DatasetOverview
{
    struct Preview
    {
        int64_t record = 0;
        std::string input;  // the prompt side: user turns, instruction and input, prompt, or the text
        std::string target; // the trained side: the last assistant turn, output or completion
        std::vector<std::string> images; // the record's images (file paths or data: URLs), in order
    };

    std::string fileType; // "jsonl", "json", "csv", "tsv", "text"
    std::string format;   // recordFormatName: "alpaca", "messages", "sharegpt", "prompt-completion", "text"
    int64_t records = 0;
    bool recordsEstimated = false; // counted in the first scanBytes, scaled to the file's size
    int64_t sizeBytes = 0;
    std::vector<Preview> preview;
};

struct DatasetOverviewOptions
{
    RecordFormat format = RecordFormat::Auto;
    int64_t scanBytes = 8LL << 20; // records past this many bytes are estimated, not read
    int previewRecords = 8;
};

// Reads the file with DatasetReader, so it accepts and refuses exactly what training does (each record
// of the scanned part is checked); throws its Error, or one saying the file holds no records.
DatasetOverview overviewDataset(const std::string &path, const DatasetOverviewOptions &options = {});

std::string datasetFileTypeName(DatasetFileType type);

} // namespace emloc::core
