#include "emloc/stages/evaluate.h"

#include "emloc/api/error.h"
#include "emloc/api/stages.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/generation.h"
#include "emloc/model/prefilled_generation.h"
#include "emloc/stages/correct.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/refine.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/vision_language_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace emloc::core {

namespace {

// Positions whose logits exist at once in the loss pass (64 x a 128k vocabulary is 32 MiB in float32).
constexpr int64_t kLossChunkTokens = 64;

std::string trim(const std::string &text)
{
    const char *space = " \t\r\n\f\v";
    const size_t begin = text.find_first_not_of(space);
    if (begin == std::string::npos)
        return {};
    return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

// Whitespace runs become one space, ASCII letters lower case: free-text answers differ in both.
std::string normalise(const std::string &text)
{
    std::string result;
    bool space = false;
    for (char c : trim(text)) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = true;
            continue;
        }
        if (space && !result.empty())
            result += ' ';
        space = false;
        result += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return result;
}

} // namespace

std::string matchMetricName(MatchMetric metric)
{
    return choiceName(kMatchMetricChoices, metric);
}

MatchMetric parseMatchMetric(const std::string &name)
{
    if (const std::optional<MatchMetric> metric = choiceFromName(kMatchMetricChoices, name))
        return *metric;
    throw Error("Unknown metric '" + name + "'; use " + choiceNames(kMatchMetricChoices, " or ") + ".");
}

bool textMatches(const std::string &generated, const std::string &reference, MatchMetric metric)
{
    if (metric == MatchMetric::Exact)
        return trim(generated) == trim(reference);
    const std::string needle = normalise(reference);
    return !needle.empty() && normalise(generated).find(needle) != std::string::npos;
}

std::vector<HeldOutExample> makeHeldOutExamples(const std::vector<TokenizedExample> &examples,
                                                const Tokenizer &tokenizer)
{
    std::vector<HeldOutExample> result;
    for (const auto &example : examples) {
        HeldOutExample heldOut;
        heldOut.tokens = example;
        // The last run of trained labels is the answer to predict; everything before it is the prompt.
        const auto &labels = example.labels;
        int64_t end = static_cast<int64_t>(labels.size());
        while (end > 0 && labels[end - 1] == kIgnoreLabel)
            --end;
        int64_t begin = end;
        while (begin > 0 && labels[begin - 1] != kIgnoreLabel)
            --begin;
        if (begin > 0 && end > begin) {
            heldOut.promptIds.assign(example.inputIds.begin(), example.inputIds.begin() + begin);
            heldOut.reference = tokenizer.decode(
                std::vector<int64_t>(example.inputIds.begin() + begin, example.inputIds.begin() + end), true);
        }
        result.push_back(std::move(heldOut));
    }
    return result;
}

nlohmann::json ModelEvaluation::toJson() const
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto &sample : samples)
        list.push_back({{"reference", sample.reference},
                        {"generated", sample.generated},
                        {"match", sample.match},
                        {"stopped", sample.stopped}});
    return {{"name", name},
            {"loss", loss},
            {"perplexity", perplexity},
            {"tokens", tokens},
            {"examples", examples},
            {"generated", generated},
            {"matched", matched},
            {"match_rate", matchRate >= 0 ? nlohmann::json(matchRate) : nlohmann::json(nullptr)},
            {"stopped", stopped},
            {"stop_rate", stopRate >= 0 ? nlohmann::json(stopRate) : nlohmann::json(nullptr)},
            {"seconds", seconds},
            {"peak_memory_bytes", peakMemoryBytes},
            {"samples", list}};
}

nlohmann::json EvaluationResult::toJson() const
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto &model : models)
        list.push_back(model.toJson());
    return {{"metric", metric},
            {"examples", examples},
            {"source", source},
            {"stop_tokens", stopTokens},
            {"corrected_refined", correctedRefined},
            {"models", list}};
}

EvaluationResult evaluationFromJson(const nlohmann::json &json)
{
    const auto rate = [](const nlohmann::json &m, const char *key) {
        return m.contains(key) && m.at(key).is_number() ? m.at(key).get<double>() : -1.0;
    };
    EvaluationResult evaluation;
    evaluation.metric = json.value("metric", "");
    evaluation.examples = json.value("examples", int64_t(0));
    evaluation.source = json.value("source", "");
    evaluation.stopTokens = json.value("stop_tokens", std::vector<int64_t>{});
    evaluation.correctedRefined = json.value("corrected_refined", false);
    for (const auto &m : json.at("models")) {
        ModelEvaluation model;
        model.name = m.value("name", "");
        model.loss = m.value("loss", 0.0);
        model.perplexity = m.value("perplexity", 0.0);
        model.tokens = m.value("tokens", int64_t(0));
        model.examples = m.value("examples", int64_t(0));
        model.generated = m.value("generated", int64_t(0));
        model.matched = m.value("matched", int64_t(0));
        model.matchRate = rate(m, "match_rate");
        model.stopped = m.value("stopped", int64_t(0));
        model.stopRate = rate(m, "stop_rate");
        model.seconds = m.value("seconds", 0.0);
        model.peakMemoryBytes = m.value("peak_memory_bytes", int64_t(-1));
        for (const auto &s : m.value("samples", nlohmann::json::array()))
            model.samples.push_back({s.value("reference", ""), s.value("generated", ""),
                                     s.value("match", false), s.value("stopped", false)});
        evaluation.models.push_back(model);
    }
    return evaluation;
}

int64_t generationBatchRows(const ModelConfig &config, int64_t requested, int64_t tokensPerRow)
{
    // Both sides in values, so the dtype cancels: keys and values of every layer against the parameters.
    const double cachePerRow = 2.0 * static_cast<double>(config.numLayers * config.numKeyValueHeads *
                                                         config.headDim * std::max<int64_t>(1, tokensPerRow));
    const double allowance = static_cast<double>(config.totalParameters()) / 4.0;
    const auto fitting = static_cast<int64_t>(allowance / cachePerRow);
    return std::clamp<int64_t>(fitting, 1, std::max<int64_t>(1, requested));
}

ModelEvaluation evaluateModel(CausalLM &model, const std::string &name,
                              const std::vector<HeldOutExample> &examples, const Tokenizer &tokenizer,
                              const std::vector<int64_t> &stopTokens, const EvaluationOptions &options,
                              Feedback *feedback, const ImageInputs *images)
{
    torch::InferenceMode inference;
    const auto start = std::chrono::steady_clock::now();
    ModelEvaluation result;
    result.name = name;
    result.examples = static_cast<int64_t>(examples.size());
    const torch::Device device = model.placement().device;
    const int64_t batchSize = std::max<int64_t>(1, options.batchSize);
    const int64_t generating =
        options.generation ? std::count_if(examples.begin(), examples.end(),
                                           [](const HeldOutExample &e) { return !e.promptIds.empty(); })
                           : 0;
    const int64_t totalWork = static_cast<int64_t>(examples.size()) + generating;
    int64_t work = 0;

    double nll = 0;
    for (size_t first = 0; first < examples.size(); first += batchSize) {
        if (feedback) {
            feedback->checkpoint();
            feedback->stageProgress(Stage::Evaluate, work, totalWork, name);
        }
        const size_t last = std::min(examples.size(), first + batchSize);
        int64_t length = 0;
        for (size_t i = first; i < last; ++i)
            length = std::max<int64_t>(length, examples[i].tokens.inputIds.size());
        const int64_t rows = static_cast<int64_t>(last - first);
        torch::Tensor ids = torch::zeros({rows, length}, torch::kInt64);
        torch::Tensor labels = torch::full({rows, length}, kIgnoreLabel, torch::kInt64);
        torch::Tensor mask = torch::zeros({rows, length}, torch::kInt64);
        for (size_t i = first; i < last; ++i) {
            const auto &tokens = examples[i].tokens;
            const int64_t n = static_cast<int64_t>(tokens.inputIds.size());
            const int64_t row = static_cast<int64_t>(i - first);
            ids[row].narrow(0, 0, n).copy_(torch::tensor(tokens.inputIds, torch::kInt64));
            labels[row].narrow(0, 0, n).copy_(torch::tensor(tokens.labels, torch::kInt64));
            mask[row].narrow(0, 0, n).fill_(1);
        }
        // Token t predicts label t + 1, as transformers shifts them. Only the positions with a label go
        // through the LM head, a few at a time: the logits of a prompt are never needed, and over the
        // vocabulary the logits are the largest tensor of the pass.
        std::vector<std::string> batchImages; // reading order, row by row
        for (size_t i = first; i < last; ++i)
            batchImages.insert(batchImages.end(), examples[i].tokens.images.begin(),
                               examples[i].tokens.images.end());
        torch::Tensor hidden =
            images ? model.forwardEmbeddings(
                         images->embed(model, ids.to(device), batchImages,
                                       "held-out records " +
                                           std::to_string(examples[first].tokens.recordNumber) + " to " +
                                           std::to_string(examples[last - 1].tokens.recordNumber)),
                         mask.to(device))
                   : model.forwardHidden(ids.to(device), mask.to(device));
        torch::Tensor shiftedLabels = labels.narrow(1, 1, length - 1).reshape({-1});
        torch::Tensor counted = (shiftedLabels != kIgnoreLabel).nonzero().squeeze(1);
        torch::Tensor countedHidden = hidden.narrow(1, 0, length - 1)
                                          .reshape({-1, hidden.size(-1)})
                                          .index_select(0, counted.to(device));
        torch::Tensor countedLabels = shiftedLabels.index_select(0, counted).to(device);
        for (int64_t begin = 0; begin < countedHidden.size(0); begin += kLossChunkTokens) {
            const int64_t n = std::min(kLossChunkTokens, countedHidden.size(0) - begin);
            torch::Tensor logits = model.lmHead(countedHidden.narrow(0, begin, n));
            if (logits.scalar_type() != torch::kFloat64) // half precision is upcast for the loss
                logits = logits.to(torch::kFloat32);
            nll += torch::nn::functional::cross_entropy(
                       logits, countedLabels.narrow(0, begin, n),
                       torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .to(torch::kFloat64)
                       .item<double>();
        }
        result.tokens += counted.size(0);
        work += rows;
    }
    result.loss = result.tokens > 0 ? nll / static_cast<double>(result.tokens) : 0.0;
    result.perplexity = std::exp(result.loss);

    if (generating > 0) {
        GenerationOptions generation;
        generation.maxNewTokens = options.maxNewTokens;
        generation.temperature = 0;
        generation.stopTokenIds = stopTokens;
        // Prompts of similar length share a batch, so little of it is padding; the answers are read back
        // in the examples' order.
        std::vector<size_t> order;
        for (size_t i = 0; i < examples.size(); ++i)
            if (!examples[i].promptIds.empty())
                order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return examples[a].promptIds.size() < examples[b].promptIds.size();
        });
        const int64_t rows = generationBatchRows(
            model.config(), options.generationBatch,
            static_cast<int64_t>(examples[order.back()].promptIds.size()) + options.maxNewTokens);
        std::vector<std::optional<GenerationResult>> outputs(examples.size());
        // A prompt with images runs its first step through the tower (one prompt at a time); the others
        // are generated in batches.
        if (images) {
            std::vector<size_t> textOnly;
            for (size_t i : order) {
                if (examples[i].tokens.images.empty()) {
                    textOnly.push_back(i);
                    continue;
                }
                if (feedback) {
                    feedback->checkpoint();
                    feedback->stageProgress(Stage::Evaluate, work, totalWork, name);
                }
                const std::string where =
                    "held-out record " + std::to_string(examples[i].tokens.recordNumber);
                const PrefillStep prefill = [&](const torch::Tensor &ids, KVCache &cache) {
                    return model.forwardEmbeddings(
                        images->embed(model, ids, examples[i].tokens.images, where), {}, &cache);
                };
                outputs[i] =
                    generateWithPrefill(model, examples[i].promptIds, prefill, generation, {}, feedback);
                ++work;
            }
            order = std::move(textOnly);
        }
        for (size_t first = 0; first < order.size(); first += static_cast<size_t>(rows)) {
            if (feedback) {
                feedback->checkpoint();
                feedback->stageProgress(Stage::Evaluate, work, totalWork, name);
            }
            const size_t last = std::min(order.size(), first + static_cast<size_t>(rows));
            std::vector<std::vector<int64_t>> prompts;
            for (size_t k = first; k < last; ++k)
                prompts.push_back(examples[order[k]].promptIds);
            std::vector<GenerationResult> batch = generateBatch(model, prompts, generation, feedback);
            for (size_t k = first; k < last; ++k)
                outputs[order[k]] = std::move(batch[k - first]);
            work += static_cast<int64_t>(last - first);
        }
        for (size_t i = 0; i < examples.size(); ++i) {
            if (!outputs[i])
                continue;
            std::vector<int64_t> tokens = outputs[i]->tokens;
            SampleOutput sample;
            sample.stopped = outputs[i]->stopReason == GenerationResult::StopReason::StopToken;
            if (sample.stopped && !tokens.empty())
                tokens.pop_back();
            sample.reference = examples[i].reference;
            sample.generated = tokenizer.decode(tokens, true);
            sample.match = textMatches(sample.generated, sample.reference, options.metric);
            ++result.generated;
            result.matched += sample.match ? 1 : 0;
            result.stopped += sample.stopped ? 1 : 0;
            if (options.keepSamples < 0 || static_cast<int64_t>(result.samples.size()) < options.keepSamples)
                result.samples.push_back(std::move(sample));
        }
        result.matchRate = static_cast<double>(result.matched) / static_cast<double>(result.generated);
        result.stopRate = static_cast<double>(result.stopped) / static_cast<double>(result.generated);
    }
    if (feedback)
        feedback->stageProgress(Stage::Evaluate, totalWork, totalWork, name);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

namespace {

struct OriginalModel
{
    StageModel model; // a vision-language original's language model, with its tower
    std::shared_ptr<Tokenizer> tokenizer;
    ChatTemplate chatTemplate;
};

OriginalModel openOriginal(const EvaluationOptions &options, Feedback *feedback)
{
    StageModel model = openStageModel(options.modelPath);
    ModelText text = openModelText(model.files, options.chatTemplate, feedback);
    return {std::move(model), std::move(text.tokenizer), std::move(text.chatTemplate)};
}

EvaluationResult evaluateCandidates(const EvaluationOptions &options, const OriginalModel &original,
                                    const std::vector<TokenizedExample> &tokenized, const std::string &source,
                                    Feedback *feedback)
{
    const ModelFiles &files = original.model.files;
    const std::vector<HeldOutExample> examples = makeHeldOutExamples(tokenized, *original.tokenizer);
    const std::vector<int64_t> stopTokens = stopTokensFor(files, original.chatTemplate, *original.tokenizer);

    // What to evaluate: (name, weights). Inputs are opened and validated before any model runs, so a
    // wrong path fails in seconds, not after the first evaluation.
    std::vector<std::pair<std::string, std::shared_ptr<WeightSource>>> candidates;
    if (options.includeOriginal)
        candidates.emplace_back("original", files.weights);
    std::optional<PeftAdapter> adapter;
    if (!options.adapterPath.empty())
        adapter = readStageAdapter(options.adapterPath, original.model, options.modelPath);
    if (!options.emulatorPath.empty()) {
        // The emulator runs as stage 2 trained it, on its factors: its evaluation peak is its own size.
        auto emulator = openEmulatorWeights(options.emulatorPath, files.weights, EmulatorView::Factored);
        if (adapter)
            candidates.emplace_back("emulator+lora", mergeAdapterWeights(emulator, *adapter));
        else
            candidates.emplace_back("emulator", emulator);
    }
    if (adapter)
        candidates.emplace_back("original+lora", mergeAdapterWeights(files.weights, *adapter));
    if (!options.correctedPath.empty()) {
        PeftAdapter corrected = readStageAdapter(options.correctedPath, original.model, options.modelPath);
        candidates.emplace_back("original+corrected",
                                mergeAdapterWeights(files.weights, std::move(corrected)));
    }

    if (candidates.empty())
        throw Error("Nothing to evaluate: the original model is skipped and no adapter, corrected adapter or "
                    "emulator was given.");

    CausalLMOptions modelOptions;
    modelOptions.placement.device = torch::Device(options.device);
    modelOptions.placement.dtype = parseComputeDtype(options.dtype, modelOptions.placement.device);
    EvaluationResult result;
    result.metric = options.metric == MatchMetric::Exact ? "exact" : "contains";
    result.examples = static_cast<int64_t>(examples.size());
    result.source = source;
    result.stopTokens = stopTokens;
    result.correctedRefined = isRefinedAdapter(options.correctedPath);
    // The tower and projector stay resident across the models, as they are in the model's inference.
    std::optional<ImageInputs> images;
    if (original.model.vision)
        images.emplace(*original.model.vision, modelOptions.placement);
    // An emulator whose build compressed the tower sees the images through that tower, as stage 2 did.
    std::optional<ImageInputs> emulatorImages;
    if (original.model.vision && !options.emulatorPath.empty() &&
        readEmulatorManifest(options.emulatorPath).value("vision_tower", nlohmann::json()).is_object())
        emulatorImages.emplace(*visionSourceOfEmulator(options.emulatorPath), modelOptions.placement);
    for (const auto &[name, weights] : candidates) {
        if (feedback)
            feedback->log(LogLevel::Info, "Evaluating " + name + " on " + source);
        // Each model's own peak: loading it and running it, with only it resident.
        MemoryMeter meter(options.device);
        meter.reset();
        CausalLM model(files.config, weights, modelOptions, feedback);
        const bool emulator = name.rfind("emulator", 0) == 0;
        const ImageInputs *inputs = emulator && emulatorImages ? &*emulatorImages
                                    : images                   ? &*images
                                                               : nullptr;
        result.models.push_back(
            evaluateModel(model, name, examples, *original.tokenizer, stopTokens, options, feedback, inputs));
        result.models.back().peakMemoryBytes = meter.read().peakBytes;
    }
    return result;
}

} // namespace

EvaluationResult runEvaluation(const EvaluationOptions &options, Feedback *feedback)
{
    if (options.dataPath.empty())
        throw Error("No held-out data given; pass a dataset file with --data.");
    const OriginalModel original = openOriginal(options, feedback);

    DatasetReadOptions readOptions;
    readOptions.sampleLimit = options.maxExamples;
    readOptions.format = parseRecordFormat(options.format);
    TokenizeOptions tokenizeOptions;
    tokenizeOptions.maxLength = options.maxLength;
    tokenizeOptions.systemPrompt = options.systemPrompt;
    if (original.model.vision) {
        // Records with images, read as training reads them: each placeholder expanded to its image's tokens.
        PrepareOptions prepare;
        prepare.read = readOptions;
        prepare.tokenize = tokenizeOptions;
        prepare.images = datasetImageTokens(*original.model.vision, options.dataPath);
        PreparedDataset prepared =
            prepareDataset(options.dataPath, original.chatTemplate, *original.tokenizer, prepare, feedback);
        return evaluateCandidates(options, original, prepared.examples, options.dataPath, feedback);
    }
    std::vector<TokenizedExample> tokenized;
    int64_t skipped = 0;
    for (const DatasetRecord &record : readDataset(options.dataPath, readOptions)) {
        TokenizeResult result =
            tokenizeRecord(record, original.chatTemplate, *original.tokenizer, tokenizeOptions);
        if (result.ok)
            tokenized.push_back(std::move(result.example));
        else
            ++skipped;
    }
    if (skipped > 0 && feedback)
        feedback->log(LogLevel::Warning, std::to_string(skipped) +
                                             " held-out records were skipped (no trained "
                                             "tokens or not tokenizable)");
    if (tokenized.empty())
        throw Error("The held-out data '" + options.dataPath + "' yields no example with response tokens.");
    return evaluateCandidates(options, original, tokenized, options.dataPath, feedback);
}

EvaluationResult runEvaluation(const EvaluationOptions &options,
                               const std::vector<TokenizedExample> &examples, const std::string &source,
                               Feedback *feedback)
{
    if (examples.empty())
        throw Error("Nothing to evaluate on: " + source + " holds no example with response tokens.");
    const OriginalModel original = openOriginal(options, feedback);
    std::vector<TokenizedExample> limited = examples;
    if (options.maxExamples > 0 && static_cast<int64_t>(limited.size()) > options.maxExamples)
        limited.resize(static_cast<size_t>(options.maxExamples));
    return evaluateCandidates(options, original, limited, source, feedback);
}

} // namespace emloc::core
