#pragma once
// Evaluation of stage 3 on a held-out split: the original model, the emulator with the LoRA it was
// trained with, the original with that LoRA uncorrected, and the original with the corrected LoRA.
// Adapters are merged into the weights in memory (W + s B A, exact); one model is resident at a time.

#include "emloc/api/job.h"
#include "emloc/api/run_choices.h"
#include "emloc/model/causal_lm.h"
#include "emloc/text/dataset_tokenize.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emloc::core {

class ImageInputs;
class Tokenizer;

// One held-out example: the teacher-forced tokens and labels, and for generation the prompt (the
// tokens before the last trained span) and the reference text (that span decoded, special tokens
// skipped). Text records have no prompt: they count for the loss only.
struct HeldOutExample
{
    TokenizedExample tokens;
    std::vector<int64_t> promptIds;
    std::string reference;
};

// Picks the prompt / reference of tokenized examples (see HeldOutExample).
std::vector<HeldOutExample> makeHeldOutExamples(const std::vector<TokenizedExample> &examples,
                                                const Tokenizer &tokenizer);

MatchMetric parseMatchMetric(const std::string &name); // "exact", "contains"; Error otherwise
std::string matchMetricName(MatchMetric metric);       // its name in files and on screen
// exact (the default): equal after stripping leading and trailing whitespace, nothing else forgiven; an
// answer that does not stop where the reference stops never matches. contains: the reference
// (whitespace-collapsed, case-folded ASCII) occurs in the generated text, however much follows it.
bool textMatches(const std::string &generated, const std::string &reference, MatchMetric metric);

struct SampleOutput
{
    std::string reference;
    std::string generated;
    bool match = false;
    bool stopped = false; // the answer ended on one of the model's end tokens, not at the token limit
};

struct ModelEvaluation
{
    std::string name; // "original", "emulator+lora", "original+lora", "original+corrected"
    double loss = 0;  // mean NLL per response token
    double perplexity = 0;
    int64_t tokens = 0; // response tokens scored
    int64_t examples = 0;
    int64_t generated = 0; // examples generated for
    int64_t matched = 0;
    double matchRate = -1; // matched / generated; -1 when nothing was generated
    int64_t stopped = 0;   // answers that ended on an end token by themselves
    double stopRate = -1;  // stopped / generated; -1 when nothing was generated
    double seconds = 0;
    int64_t peakMemoryBytes = -1;      // loading and running this model alone
    std::vector<SampleOutput> samples; // the first few, for a person to read
    nlohmann::json toJson() const;
};

struct EvaluationOptions
{
    std::string modelPath;       // the ORIGINAL model
    std::string emulatorPath;    // optional: emulator folder (evaluated with `adapterPath` when given)
    std::string adapterPath;     // optional: the LoRA trained on the emulator (uncorrected)
    std::string correctedPath;   // optional: the corrected adapter (refined or not: see correctedRefined)
    std::string dataPath;        // held-out dataset file
    std::string format = "auto"; // record format (dataset.h)
    std::string chatTemplate = "auto";
    std::string systemPrompt;
    int64_t maxLength = 2048;
    int64_t maxExamples = 0; // 0: all
    int64_t maxNewTokens = 64;
    bool generation = true;      // false: loss / perplexity only
    bool includeOriginal = true; // false: skip the original model (a benchmark that has its numbers)
    MatchMetric metric = MatchMetric::Exact;
    int64_t batchSize = 4; // examples per forward pass of the loss
    // Prompts generated together (fewer when their KV cache would pass a quarter of the weights: see
    // generationBatchRows).
    int64_t generationBatch = 16;
    int64_t keepSamples = 3; // samples kept in the result for a person to read (-1: all)
    std::string device = "cpu";
    std::string dtype = "auto";
};

struct EvaluationResult
{
    std::string metric; // "exact" / "contains"
    int64_t examples = 0;
    std::string source; // what the examples are: the held-out file, or the share of the training data
    std::vector<int64_t> stopTokens; // the end tokens generation stopped at
    // "original+corrected" is the corrected adapter refined on the original (its folder has the
    // refine report): what a run ships by default, named as such on screen.
    bool correctedRefined = false;
    std::vector<ModelEvaluation> models;
    nlohmann::json toJson() const;
};

// Prompts generated together by the evaluation: `requested`, fewer when the KV cache of that many
// sequences of `tokensPerRow` tokens would be larger than a quarter of the model's weights (so a large
// model with a long context stays within the memory of inference); at least one.
int64_t generationBatchRows(const ModelConfig &config, int64_t requested, int64_t tokensPerRow);

// Loss, perplexity and (optionally) greedy generation metrics of one model on held-out examples.
// Progress "evaluate"; cancellable between batches and generated tokens.
// `stopTokens` ends each answer (stopTokensFor: the model's end tokens and its template's end of turn).
// `images`: a vision-language model's tower, which puts the examples' images in (their prompts are
// generated one at a time; text prompts in batches).
ModelEvaluation evaluateModel(CausalLM &model, const std::string &name,
                              const std::vector<HeldOutExample> &examples, const Tokenizer &tokenizer,
                              const std::vector<int64_t> &stopTokens, const EvaluationOptions &options,
                              Feedback *feedback = nullptr, const ImageInputs *images = nullptr);

// Reads and tokenizes the data with the original model's tokenizer and template, then evaluates every
// model the options make available (the original unless includeOriginal is false). Error names a missing
// input, or says there is nothing to evaluate. A vision-language original (InternVL) is evaluated with
// the records' images, its tower resident beside each model; its adapters may carry either naming.
EvaluationResult runEvaluation(const EvaluationOptions &options, Feedback *feedback = nullptr);
// The same on examples already tokenized with the original model's tokenizer and template (a held-out
// share of the training data); `source` says what they are. options.dataPath is not read.
EvaluationResult runEvaluation(const EvaluationOptions &options,
                               const std::vector<TokenizedExample> &examples, const std::string &source,
                               Feedback *feedback = nullptr);
// Reads evaluation.json's "result" (EvaluationResult::toJson) back.
EvaluationResult evaluationFromJson(const nlohmann::json &json);

} // namespace emloc::core
