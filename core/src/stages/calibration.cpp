// Calibration data for stage 1: the user's training records, tokenized as training tokenizes them, in
// padded chunks; and the Gram matrices of every projection's input.
#include "emloc/stages/calibration.h"
#include "emloc/dist/collective.h"

#include "emloc/api/error.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/dataset_tokenize.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/vision/image_rows.h"

#include <algorithm>
#include <numeric>

namespace emloc::core {

nlohmann::json CalibrationOptions::toJson() const
{
    return {{"data", dataPath},
            {"samples", samples},
            {"max_length", maxLength},
            {"seed", seed},
            {"format", format},
            {"chat_template", chatTemplate},
            {"system_prompt", systemPrompt}};
}

namespace {

CalibrationSet chooseCalibrationSamples(const ModelFiles &files, const CalibrationOptions &options,
                                        const ImageTokens &imageTokens, Feedback *feedback)
{
    if (options.samples < 1)
        throw Error("the calibration needs at least one sample (got " + std::to_string(options.samples) +
                    ")");
    if (options.dataPath.empty())
        throw Error("no calibration data was given: pass the training data file (.jsonl, .json or .txt)");
    const ModelText text = openModelText(files, options.chatTemplate, feedback);

    PrepareOptions prepare;
    prepare.read.format = parseRecordFormat(options.format);
    prepare.tokenize.maxLength = options.maxLength;
    prepare.tokenize.systemPrompt = options.systemPrompt;
    prepare.requireUsable = true;
    prepare.images = imageTokens;
    PreparedDataset prepared =
        prepareDataset(options.dataPath, text.chatTemplate, *text.tokenizer, prepare, feedback);

    std::vector<size_t> usable;
    for (size_t i = 0; i < prepared.examples.size(); ++i)
        if (prepared.examples[i].inputIds.size() >= 2)
            usable.push_back(i);
    if (usable.empty())
        throw Error("the calibration data '" + options.dataPath +
                    "' has no record with at least two tokens: nothing to calibrate the emulator on");
    // A seeded choice (the same as the training split's shuffle), kept in file order.
    std::vector<size_t> order = shuffledIndices(usable.size(), options.seed);
    order.resize(std::min<size_t>(order.size(), static_cast<size_t>(options.samples)));
    std::sort(order.begin(), order.end());

    CalibrationSet set;
    set.dataPath = options.dataPath;
    set.recordsAvailable = static_cast<int64_t>(usable.size());
    for (size_t index : order) {
        auto &example = prepared.examples[usable[index]];
        set.tokens += static_cast<int64_t>(example.inputIds.size());
        set.recordNumbers.push_back(example.recordNumber);
        set.sequences.push_back(std::move(example.inputIds));
        set.images += static_cast<int64_t>(example.images.size());
        set.imageSources.push_back(std::move(example.images));
    }
    return set;
}

} // namespace

CalibrationSet loadCalibrationSet(const ModelFiles &files, const CalibrationOptions &options,
                                  Feedback *feedback)
{
    return chooseCalibrationSamples(files, options, {}, feedback);
}

CalibrationSet loadCalibrationSet(const VisionLanguageFiles &files, const CalibrationOptions &options,
                                  const TensorPlacement *placement, Feedback *feedback)
{
    CalibrationSet set = chooseCalibrationSamples(files.language, options,
                                                  datasetImageTokens(files, options.dataPath), feedback);
    set.imageTokenId = files.config.imageTokenId;
    set.imageRows.resize(set.sequences.size());
    if (placement)
        encodeCalibrationImages(files, set, *placement, feedback);
    return set;
}

void encodeCalibrationImages(const VisionLanguageFiles &files, CalibrationSet &set,
                             const TensorPlacement &placement, Feedback *feedback)
{
    set.imageRows.resize(set.sequences.size());
    if (set.images == 0)
        return;
    torch::NoGradGuard noGrad;
    const ImageRowEncoder encoder(files, placement);
    for (size_t i = 0; i < set.sequences.size(); ++i) {
        if (feedback) {
            feedback->checkpoint();
            feedback->progress("images", static_cast<int64_t>(i), static_cast<int64_t>(set.sequences.size()));
        }
        // Kept on the CPU until their chunk is embedded: a device holds one chunk's at a time.
        const torch::Tensor rows = encoder.rows(
            set.imageSources[i], set.dataPath + ": record " + std::to_string(set.recordNumbers[i]));
        if (rows.defined())
            set.imageRows[i] = rows.to(torch::kCPU);
    }
}

std::vector<CalibrationChunk> calibrationChunks(const CalibrationSet &set, int64_t chunkSize, int64_t padId)
{
    chunkSize = std::max<int64_t>(1, chunkSize);
    std::vector<size_t> order(set.sequences.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return set.sequences[a].size() > set.sequences[b].size(); });
    std::vector<CalibrationChunk> chunks;
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(chunkSize)) {
        const size_t end = std::min(order.size(), start + static_cast<size_t>(chunkSize));
        const int64_t rows = static_cast<int64_t>(end - start);
        const int64_t length = static_cast<int64_t>(set.sequences[order[start]].size());
        CalibrationChunk chunk;
        chunk.ids = torch::full({rows, length}, padId, torch::kInt64);
        auto mask = torch::zeros({rows, length}, torch::kInt64);
        bool padded = false;
        for (int64_t row = 0; row < rows; ++row) {
            const auto &ids = set.sequences[order[start + static_cast<size_t>(row)]];
            const int64_t n = static_cast<int64_t>(ids.size());
            chunk.ids[row].slice(0, 0, n).copy_(torch::tensor(ids, torch::kInt64));
            mask[row].slice(0, 0, n).fill_(1);
            chunk.tokens += n;
            padded = padded || n < length;
        }
        if (padded)
            chunk.attentionMask = mask;
        std::vector<torch::Tensor> imageRows; // row by row, as spliceImageRows reads them
        for (int64_t row = 0; row < rows; ++row) {
            const size_t sequence = order[start + static_cast<size_t>(row)];
            if (sequence < set.imageRows.size() && set.imageRows[sequence].defined())
                imageRows.push_back(set.imageRows[sequence]);
        }
        if (!imageRows.empty())
            chunk.imageRows = torch::cat(imageRows, 0);
        chunks.push_back(std::move(chunk));
    }
    return chunks;
}

int64_t paddedTokenCount(const std::vector<CalibrationChunk> &chunks)
{
    int64_t total = 0;
    for (const auto &chunk : chunks)
        total += chunk.ids.numel();
    return total;
}

LinearInputObserver GramAccumulator::observer()
{
    return [this](const std::vector<std::string> &names, const torch::Tensor &rows) { add(names, rows); };
}

void GramAccumulator::add(const std::vector<std::string> &linearNames, const torch::Tensor &rows)
{
    if (linearNames.empty() || rows.numel() == 0)
        return;
    const std::string &key = linearNames.front();
    Group &group = m_groups[key];
    auto x = rows.reshape({-1, rows.size(-1)}).to(m_dtype);
    if (!group.gram.defined())
        group.gram = torch::zeros({x.size(1), x.size(1)}, x.options());
    group.gram.addmm_(x.t(), x);
    group.rows += x.size(0);
    for (const auto &name : linearNames)
        m_groupOf[name] = key;
}

std::string GramAccumulator::groupOf(const std::string &moduleName) const
{
    const auto it = m_groupOf.find(moduleName);
    if (it == m_groupOf.end())
        throw Error("no calibration activations reached \"" + moduleName +
                    "\": the calibration data gave no usable tokens");
    return it->second;
}

const torch::Tensor &GramAccumulator::gramFor(const std::string &moduleName) const
{
    return m_groups.at(groupOf(moduleName)).gram;
}

int64_t GramAccumulator::rowsSeen(const std::string &moduleName) const
{
    return m_groups.at(groupOf(moduleName)).rows;
}

void GramAccumulator::sumOver(Collective &collective, const std::string &what,
                              const std::vector<torch::Tensor> &alongside)
{
    std::string modules;
    for (const auto &[module, group] : m_groupOf)
        modules += module + "@" + group + " ";
    const auto seen = collective.allGather(modules, what + " (its modules)");
    for (int r = 1; r < collective.worldSize(); ++r)
        if (seen[static_cast<size_t>(r)] != seen[0])
            throw Error(collective.describeRank(r) + " saw other modules than rank 0 in " + what +
                        ": the ranks do not run the same model");
    std::vector<torch::Tensor> tensors;
    auto rows = torch::empty({static_cast<int64_t>(m_groups.size())}, torch::kFloat64);
    int64_t index = 0;
    for (auto &[key, group] : m_groups) {
        tensors.push_back(group.gram);
        rows[index++] = static_cast<double>(group.rows);
    }
    tensors.push_back(rows);
    tensors.insert(tensors.end(), alongside.begin(), alongside.end());
    collective.allReduceSum(tensors, what);
    index = 0;
    for (auto &[key, group] : m_groups)
        group.rows = static_cast<int64_t>(rows[index++].item<double>());
}

void GramAccumulator::clear()
{
    m_groups.clear();
    m_groupOf.clear();
}

} // namespace emloc::core
