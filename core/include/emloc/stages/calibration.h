#pragma once

#include "emloc/api/job.h"
#include "emloc/api/run_defaults.h"
#include "emloc/io/model_files.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/vision/vision_language_model.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace emloc::core {

class Collective;

// Which samples of the user's training data calibrate the emulator, tokenized exactly as training
// tokenizes them (the model's tokenizer and chat template, the same maximum length).
struct CalibrationOptions
{
    std::string dataPath;
    int64_t samples =
        run_defaults::kCalibrationSamples.value; // at most this many records, chosen by a seeded shuffle
    int64_t maxLength = run_defaults::kMaxLength.value; // tokens per sample after truncation
    uint64_t seed = 0;
    std::string format = "auto";       // record format (dataset.h)
    std::string chatTemplate = "auto"; // chat_template.h choice
    std::string systemPrompt;

    nlohmann::json toJson() const;
};

// The chosen samples: token ids of each (file order) and the statistics people need to trust them.
struct CalibrationSet
{
    std::vector<std::vector<int64_t>> sequences;
    std::string dataPath;                               // the data file (errors name it)
    std::vector<int64_t> recordNumbers;                 // 1-based records of the data file
    int64_t tokens = 0;                                 // real tokens in all sequences
    int64_t recordsAvailable = 0;                       // usable records in the file
    std::vector<std::vector<std::string>> imageSources; // each sequence's images (TokenizedExample::images)
    // A vision-language model's samples: each sequence's image rows [n, hidden] (undefined when it has
    // no image), placed into its embeddings at imageTokenId (vision/image_rows.h); -1 for a text model.
    std::vector<torch::Tensor> imageRows;
    int64_t imageTokenId = -1;
    int64_t images = 0; // in the chosen samples
};

// Reads, renders and tokenizes the data file with the model's tokenizer and template, then picks the
// samples. Error when the model has no tokenizer, the file cannot be read, or no record yields tokens.
CalibrationSet loadCalibrationSet(const ModelFiles &files, const CalibrationOptions &options,
                                  Feedback *feedback = nullptr);
// The same for a vision-language model: its records with images are kept whole (the images' tokens
// uncut) and each sample's image rows are computed once by the tower and the projector at `placement`,
// which are resident during this call only. Without a placement the rows are not computed (a plan needs
// the samples' lengths only).
CalibrationSet loadCalibrationSet(const VisionLanguageFiles &files, const CalibrationOptions &options,
                                  const TensorPlacement *placement, Feedback *feedback = nullptr);
// Computes set.imageRows with the tower and the projector of `files` at `placement`, resident during this
// call only. Error names the record and the image that cannot be read.
void encodeCalibrationImages(const VisionLanguageFiles &files, CalibrationSet &set,
                             const TensorPlacement &placement, Feedback *feedback = nullptr);

// A few sequences run through a layer together: right-padded to the longest of them.
struct CalibrationChunk
{
    torch::Tensor ids;           // [B, T] int64
    torch::Tensor attentionMask; // [B, T] int64, 1 = token; undefined when no row is padded
    int64_t tokens = 0;          // real tokens
    torch::Tensor imageRows;     // the rows' image rows in reading order (undefined: none)
};

// Sequences grouped `chunkSize` at a time, longest first (so padding stays small). padId fills padding.
std::vector<CalibrationChunk> calibrationChunks(const CalibrationSet &set, int64_t chunkSize,
                                                int64_t padId = 0);

// Padded tokens the chunks hold (what the hidden states of the calibration set occupy).
int64_t paddedTokenCount(const std::vector<CalibrationChunk> &chunks);

// Accumulates G = X^T X of each projection input over calibration tokens (method.md, stage 1 step 2),
// from the decoder's LinearInputObserver: projections that read one input (q/k/v, gate/up) share one
// Gram, keyed by the first module name the observer reports. Padding rows never reach it.
class GramAccumulator
{
public:
    explicit GramAccumulator(torch::ScalarType dtype = torch::kFloat32) : m_dtype(dtype) {}

    // For DecoderLayer::forward / CausalLM::runLayer.
    LinearInputObserver observer();
    void add(const std::vector<std::string> &linearNames, const torch::Tensor &rows);

    // The Gram a module's input belongs to; Error when it was never observed.
    const torch::Tensor &gramFor(const std::string &moduleName) const;
    // The modules that share gramFor(moduleName) (the group's first module names it).
    std::string groupOf(const std::string &moduleName) const;
    int64_t rowsSeen(const std::string &moduleName) const;
    void clear();
    // Every rank's Grams summed, on every rank (each rank ran its share of the calibration through the
    // same layer). Error when the ranks saw different modules.
    // `alongside` is summed in the same exchange (rankSlots).
    void sumOver(Collective &collective, const std::string &what,
                 const std::vector<torch::Tensor> &alongside = {});

private:
    struct Group
    {
        torch::Tensor gram;
        int64_t rows = 0;
    };
    torch::ScalarType m_dtype;
    std::map<std::string, Group> m_groups;        // by the group's first module name
    std::map<std::string, std::string> m_groupOf; // module -> group key
};

// Mean next-token cross-entropy of the full model over the calibration samples (every token after the
// first counts), with the whole model resident: the reference for "inference memory" and for how far an
// emulator is from its original.
struct LossEvaluation
{
    double loss = 0;
    int64_t tokens = 0; // predicted tokens
    int64_t sequences = 0;
    double seconds = 0;
    int64_t peakMemoryBytes = 0;
    int64_t currentMemoryBytes = 0;
};
LossEvaluation evaluateLoss(const ModelFiles &files, const CalibrationSet &set, const std::string &device,
                            int64_t batchSize, Feedback &feedback);

} // namespace emloc::core
