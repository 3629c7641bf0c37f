#pragma once
// A step beyond the paper, after the correction: the corrected LoRA of the last few decoder layers is
// fine-tuned on the ORIGINAL model itself. The earlier layers carry the corrected adapter merged into
// their weights and stay frozen, so backward runs through the last layers and the head alone; the peak
// is the original model's weights plus one micro-batch's activations of those layers, the memory that
// inference of the original needs. Why: the emulator's LoRA learns the answer's format and where it ends
// on the emulator's hidden states; the correction aligns each projection, but the decision of the last
// layers (stop or go on) is made on the original's hidden states, which differ. bench/README.md measures it.

#include "emloc/api/job.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/stages/train_loop.h"
#include "emloc/text/dataset_tokenize.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

// Written into a refined adapter's folder: what was refined and how. Its presence is how an evaluation or
// an export tells a refined adapter from a corrected one.
inline constexpr const char *kRefineReportFile = "refine_report.json";
bool isRefinedAdapter(const std::string &adapterDir); // its folder holds kRefineReportFile

struct RefineOptions
{
    std::string modelPath;   // the ORIGINAL model
    std::string adapterPath; // the corrected adapter (stage 3)
    std::string outDir;      // the refined adapter (PEFT), written atomically
    int64_t layers = 4;      // the last N decoder layers are refined (pipelineRefineDefaults)
    // Steps, learning rate, batch, schedule, seed, outputDir (metrics, checkpoint; empty: none). The LoRA
    // shape comes from the adapter; lora.dropout applies.
    TrainOptions train;
    std::string device = "cpu";
    std::string dtype = "auto";
    bool overwrite = false;
};

struct RefineResult
{
    std::vector<int64_t> layers; // the refined decoder layers
    TrainResult training;
    nlohmann::json toJson() const;
};

// Refines `adapterPath` on `train` (tokenized with the original's tokenizer and template; `validation`
// may be empty) and writes outDir. Error when the adapter has no module in the last `layers` layers, or
// does not fit the model (naming the module).
RefineResult refineAdapter(const RefineOptions &options, const std::vector<TokenizedExample> &train,
                           const std::vector<TokenizedExample> &validation, Feedback &feedback);

} // namespace emloc::core
