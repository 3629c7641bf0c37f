#include "emloc/model/generation.h"
#include "emloc/model/prefilled_generation.h"

#include "emloc/api/error.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace emloc::core {

namespace {
double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void addIds(const nlohmann::json &value, std::vector<int64_t> &ids)
{
    if (value.is_number_integer())
        ids.push_back(value.get<int64_t>());
    else if (value.is_array())
        for (const auto &item : value)
            if (item.is_number_integer())
                ids.push_back(item.get<int64_t>());
}
void validateOptions(const GenerationOptions &options)
{
    if (options.topP <= 0 || options.topP > 1)
        throw Error("top-p must be in (0, 1], got " + std::to_string(options.topP));
    if (options.repetitionPenalty <= 0)
        throw Error("the repetition penalty must be positive, got " +
                    std::to_string(options.repetitionPenalty));
}

bool isStopToken(const GenerationOptions &options, int64_t token)
{
    return std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(), token) !=
           options.stopTokenIds.end();
}
} // namespace

torch::Tensor applyRepetitionPenalty(const torch::Tensor &logits, const std::vector<int64_t> &history,
                                     double penalty)
{
    if (penalty == 1.0 || history.empty())
        return logits;
    auto ids = torch::tensor(history, torch::dtype(torch::kInt64)).to(logits.device());
    auto scores = logits.gather(0, ids);
    scores = torch::where(scores < 0, scores * penalty, scores / penalty);
    return logits.scatter(0, ids, scores);
}

torch::Tensor applyTopK(const torch::Tensor &logits, int64_t topK)
{
    if (topK <= 0 || topK >= logits.size(-1))
        return logits;
    auto threshold = std::get<0>(torch::topk(logits, topK)).select(-1, topK - 1);
    return logits.masked_fill(logits < threshold, -std::numeric_limits<float>::infinity());
}

torch::Tensor applyTopP(const torch::Tensor &logits, double topP)
{
    if (topP >= 1.0)
        return logits;
    auto [sorted, indices] = torch::sort(logits, -1, /*descending=*/false);
    auto cumulative = sorted.softmax(-1).cumsum(-1);
    auto remove = cumulative <= (1 - topP);
    remove.narrow(-1, remove.size(-1) - 1, 1).fill_(false); // keep at least one token
    auto removeOriginal = remove.scatter(-1, indices, remove);
    return logits.masked_fill(removeOriginal, -std::numeric_limits<float>::infinity());
}

int64_t pickNextToken(const torch::Tensor &logits, const std::vector<int64_t> &history,
                      const GenerationOptions &options, torch::Generator &generator)
{
    auto scores =
        applyRepetitionPenalty(logits.to(torch::kCPU, torch::kFloat32), history, options.repetitionPenalty);
    if (options.temperature <= 0)
        return scores.argmax().item<int64_t>();
    scores = applyTopP(applyTopK(scores / options.temperature, options.topK), options.topP);
    auto probabilities = scores.softmax(-1);
    return torch::multinomial(probabilities, 1, /*replacement=*/false, generator).item<int64_t>();
}

GenerationResult generate(CausalLM &model, const std::vector<int64_t> &promptIds,
                          const GenerationOptions &options, const TokenCallback &onToken, Feedback *feedback)
{
    return generateWithPrefill(model, promptIds, {}, options, onToken, feedback);
}

GenerationResult generateWithPrefill(CausalLM &model, const std::vector<int64_t> &promptIds,
                                     const PrefillStep &prefill, const GenerationOptions &options,
                                     const TokenCallback &onToken, Feedback *feedback)
{
    if (promptIds.empty())
        throw Error("the prompt is empty: give at least one token to continue");
    validateOptions(options);

    torch::NoGradGuard noGrad;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    GenerationResult result;
    result.promptTokens = static_cast<int64_t>(promptIds.size());
    std::vector<int64_t> history = promptIds;
    auto cache = model.makeCache();
    const auto device = model.placement().device;

    auto input = torch::tensor(promptIds, torch::dtype(torch::kInt64)).unsqueeze(0).to(device);
    auto start = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < options.maxNewTokens; ++step) {
        if (feedback) {
            feedback->checkpoint();
            feedback->progress("generate", step, options.maxNewTokens);
        }
        // Only the last position's logits are needed: lm_head runs on one row.
        auto hidden =
            step == 0 && prefill ? prefill(input, *cache) : model.forwardHidden(input, {}, cache.get());
        auto logits = model.lmHead(hidden.select(1, hidden.size(1) - 1)).squeeze(0);
        const int64_t token = pickNextToken(logits, history, options, generator);
        if (step == 0) {
            result.prefillSeconds = secondsSince(start);
            start = std::chrono::steady_clock::now();
        }
        history.push_back(token);
        result.tokens.push_back(token);
        const bool stop = isStopToken(options, token);
        if (onToken && !onToken(token)) {
            result.stopReason = GenerationResult::StopReason::Callback;
            break;
        }
        if (stop) {
            result.stopReason = GenerationResult::StopReason::StopToken;
            break;
        }
        input = torch::full({1, 1}, token, torch::dtype(torch::kInt64).device(device));
    }
    if (!result.tokens.empty() && result.tokens.size() > 1)
        result.decodeSeconds = secondsSince(start);
    if (feedback)
        feedback->progress("generate", static_cast<int64_t>(result.tokens.size()), options.maxNewTokens);
    return result;
}

std::vector<GenerationResult> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                            const GenerationOptions &options, Feedback *feedback)
{
    validateOptions(options);
    const int64_t rows = static_cast<int64_t>(prompts.size());
    int64_t longest = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        if (prompts[i].empty())
            throw Error("prompt " + std::to_string(i + 1) + " of " + std::to_string(rows) +
                        " is empty: give at least one token to continue");
        longest = std::max<int64_t>(longest, static_cast<int64_t>(prompts[i].size()));
    }
    std::vector<GenerationResult> results(prompts.size());
    if (rows == 0)
        return results;

    torch::NoGradGuard noGrad;
    const auto device = model.placement().device;
    // Left padding: every sequence's next token is at the last position. The padding id is any valid
    // token; the mask hides it.
    torch::Tensor ids = torch::zeros({rows, longest}, torch::kInt64);
    torch::Tensor mask = torch::zeros({rows, longest}, torch::kInt64);
    bool padded = false;
    for (int64_t row = 0; row < rows; ++row) {
        const auto &prompt = prompts[static_cast<size_t>(row)];
        const int64_t n = static_cast<int64_t>(prompt.size());
        ids[row].narrow(0, longest - n, n).copy_(torch::tensor(prompt, torch::kInt64));
        mask[row].narrow(0, longest - n, n).fill_(1);
        padded = padded || n < longest;
        results[static_cast<size_t>(row)].promptTokens = n;
    }
    const bool greedy = options.temperature <= 0 && options.repetitionPenalty == 1.0;
    std::vector<std::vector<int64_t>> histories = prompts;
    std::vector<torch::Generator> generators;
    if (!greedy)
        for (int64_t row = 0; row < rows; ++row)
            generators.push_back(at::make_generator<at::CPUGeneratorImpl>(options.seed));

    std::vector<int64_t> running(static_cast<size_t>(rows)); // the prompt index of each batch row
    std::iota(running.begin(), running.end(), 0);
    auto cache = model.makeCache();
    torch::Tensor input = ids.to(device);
    torch::Tensor stepMask = padded ? mask.to(device) : torch::Tensor();
    auto start = std::chrono::steady_clock::now();
    double prefillSeconds = 0;
    for (int64_t step = 0; step < options.maxNewTokens && !running.empty(); ++step) {
        if (feedback) {
            feedback->checkpoint();
            feedback->progress("generate", step, options.maxNewTokens);
        }
        auto hidden = model.forwardHidden(input, stepMask, cache.get());
        auto logits = model.lmHead(hidden.select(1, hidden.size(1) - 1)); // [running, vocab]
        std::vector<int64_t> tokens;
        if (greedy) {
            auto picked = logits.argmax(-1).to(torch::kCPU);
            tokens.assign(picked.data_ptr<int64_t>(), picked.data_ptr<int64_t>() + picked.numel());
        } else {
            for (size_t b = 0; b < running.size(); ++b) {
                const auto index = static_cast<size_t>(running[b]);
                tokens.push_back(pickNextToken(logits[static_cast<int64_t>(b)], histories[index], options,
                                               generators[index]));
            }
        }
        if (step == 0) {
            prefillSeconds = secondsSince(start);
            start = std::chrono::steady_clock::now();
        }
        std::vector<int64_t> keptRows, keptPrompts, nextTokens;
        for (size_t b = 0; b < running.size(); ++b) {
            const auto index = static_cast<size_t>(running[b]);
            GenerationResult &result = results[index];
            result.tokens.push_back(tokens[b]);
            histories[index].push_back(tokens[b]);
            if (isStopToken(options, tokens[b])) {
                result.stopReason = GenerationResult::StopReason::StopToken;
                continue;
            }
            keptRows.push_back(static_cast<int64_t>(b));
            keptPrompts.push_back(running[b]);
            nextTokens.push_back(tokens[b]);
        }
        if (keptRows.size() < running.size() && !keptRows.empty())
            cache->keepRows(torch::tensor(keptRows, torch::kInt64));
        running = std::move(keptPrompts);
        input = torch::tensor(nextTokens, torch::kInt64).unsqueeze(1).to(device);
        stepMask = torch::Tensor();
    }
    const double decodeSeconds = secondsSince(start);
    for (auto &result : results) {
        result.prefillSeconds = prefillSeconds;
        result.decodeSeconds = result.tokens.size() > 1 ? decodeSeconds : 0.0;
    }
    if (feedback)
        feedback->progress("generate", options.maxNewTokens, options.maxNewTokens);
    return results;
}

std::vector<int64_t> stopTokensFor(const ModelFiles &files)
{
    std::vector<int64_t> ids;
    if (files.generationConfig.is_object() && files.generationConfig.contains("eos_token_id"))
        addIds(files.generationConfig["eos_token_id"], ids);
    for (int64_t id : files.config.eosTokenIds)
        ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

int64_t endOfTurnToken(const ChatTemplate &chatTemplate, const Tokenizer &tokenizer)
{
    // A marker no template changes: what the template writes right after it closes the turn.
    const std::string marker = "EMLOC_ANSWER_END_7f3a";
    std::string text;
    try {
        text = chatTemplate.render({{"user", "Hello"}, {"assistant", marker}}, false);
    } catch (const std::exception &) {
        return -1; // a template that refuses this exchange cannot say how it ends a turn
    }
    const size_t at = text.rfind(marker);
    if (at == std::string::npos)
        return -1;
    std::string after = text.substr(at + marker.size());
    const size_t begin = after.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return -1;
    const std::vector<int64_t> ids = tokenizer.encode(after.substr(begin), false);
    if (ids.empty() || !tokenizer.isSpecial(ids.front()))
        return -1;
    return ids.front();
}

std::vector<int64_t> stopTokensFor(const ModelFiles &files, const ChatTemplate &chatTemplate,
                                   const Tokenizer &tokenizer)
{
    std::vector<int64_t> ids = stopTokensFor(files);
    const int64_t endOfTurn = endOfTurnToken(chatTemplate, tokenizer);
    if (endOfTurn >= 0 && std::find(ids.begin(), ids.end(), endOfTurn) == ids.end()) {
        ids.push_back(endOfTurn);
        std::sort(ids.begin(), ids.end());
    }
    return ids;
}

} // namespace emloc::core
