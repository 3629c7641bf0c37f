#include "emloc/generation.h"

#include "emloc/chat_template.h"
#include "emloc/error.h"
#include "emloc/tokenizer.h"

#include <algorithm>
#include <chrono>

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
    if (promptIds.empty())
        throw Error("the prompt is empty: give at least one token to continue");
    if (options.topP <= 0 || options.topP > 1)
        throw Error("top-p must be in (0, 1], got " + std::to_string(options.topP));
    if (options.repetitionPenalty <= 0)
        throw Error("the repetition penalty must be positive, got " +
                    std::to_string(options.repetitionPenalty));

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
        auto hidden = model.forwardHidden(input, {}, cache.get());
        auto logits = model.lmHead(hidden.select(1, hidden.size(1) - 1)).squeeze(0);
        const int64_t token = pickNextToken(logits, history, options, generator);
        if (step == 0) {
            result.prefillSeconds = secondsSince(start);
            start = std::chrono::steady_clock::now();
        }
        history.push_back(token);
        result.tokens.push_back(token);
        const bool stop = std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(), token) !=
                          options.stopTokenIds.end();
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
