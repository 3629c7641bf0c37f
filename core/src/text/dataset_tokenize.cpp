// Records to token ids and labels: render with the chat template, tokenize, mask everything but the
// assistant turns, truncate.
#include "emloc/text/dataset_tokenize.h"

#include "emloc/api/error.h"

#include <algorithm>

namespace emloc::core {

namespace {

size_t commonPrefix(const std::vector<int64_t> &a, const std::vector<int64_t> &b)
{
    size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

bool startsWith(const std::string &text, const std::string &prefix)
{
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

std::string recordName(const DatasetRecord &record)
{
    return "record " + std::to_string(record.number) +
           (record.line > 0 ? " (line " + std::to_string(record.line) + ")" : "");
}

TokenizeResult skipped(const DatasetRecord &record, std::string reason, const std::string &detail)
{
    TokenizeResult result;
    result.skipReason = std::move(reason);
    result.detail = recordName(record) + ": " + detail;
    return result;
}

} // namespace

std::vector<ChatMessage> conversationFor(const DatasetRecord &record, const ChatTemplate &chatTemplate,
                                         const std::string &systemPrompt)
{
    std::vector<ChatMessage> messages = record.messages;
    if (!record.alpacaInput.empty()) {
        for (auto &message : messages) {
            if (message.role == "user") {
                message.content += chatTemplate.kind() == TemplateKind::Alpaca
                                       ? "\n\n### Input:\n" + record.alpacaInput
                                       : "\n\n" + record.alpacaInput;
                break;
            }
        }
    }
    if (!systemPrompt.empty() && (messages.empty() || messages.front().role != "system"))
        messages.insert(messages.begin(), ChatMessage{"system", systemPrompt});
    return messages;
}

TokenizeResult tokenizeRecord(const DatasetRecord &record, const ChatTemplate &chatTemplate,
                              const Tokenizer &tokenizer, const TokenizeOptions &options)
{
    TokenizeResult result;
    TokenizedExample &example = result.example;
    example.recordNumber = record.number;
    const int64_t eosId = chatTemplate.eosToken().empty() ? -1 : tokenizer.tokenToId(chatTemplate.eosToken());

    bool rawTemplate =
        chatTemplate.kind() == TemplateKind::Plain || chatTemplate.kind() == TemplateKind::Alpaca;
    if (record.format == RecordFormat::Text) {
        if (record.text.empty())
            return skipped(record, "empty text", "the text is empty");
        example.inputIds = tokenizer.encode(record.text, true);
        if (eosId >= 0 && (example.inputIds.empty() || example.inputIds.back() != eosId))
            example.inputIds.push_back(eosId);
        example.labels = example.inputIds;
    } else {
        std::vector<ChatMessage> messages = conversationFor(record, chatTemplate, options.systemPrompt);
        if (messages.empty())
            return skipped(record, "empty conversation", "the conversation has no messages");
        if (std::none_of(messages.begin(), messages.end(),
                         [](const ChatMessage &m) { return m.role == "assistant"; }))
            return skipped(record, "no assistant turn",
                           "the conversation has no assistant turn, so there is nothing to learn from it");
        std::string full;
        try {
            full = chatTemplate.render(messages, false);
        } catch (const JinjaRenderError &error) {
            return skipped(record, "rejected by the chat template",
                           std::string("the chat template rejected it: ") + error.what());
        }
        // Plain and Alpaca text gets the tokenizer's own special tokens (BOS); chat templates write theirs.
        example.inputIds = tokenizer.encode(full, rawTemplate);
        example.labels.assign(example.inputIds.size(), kIgnoreLabel);
        if (options.trainOnAllTokens) {
            example.labels = example.inputIds;
        } else {
            size_t lastAssistant = 0;
            for (size_t k = 0; k < messages.size(); ++k)
                if (messages[k].role == "assistant")
                    lastAssistant = k;
            for (size_t k = 0; k < messages.size(); ++k) {
                if (messages[k].role != "assistant")
                    continue;
                std::vector<ChatMessage> before(messages.begin(),
                                                messages.begin() + static_cast<std::ptrdiff_t>(k));
                std::vector<ChatMessage> upTo(messages.begin(),
                                              messages.begin() + static_cast<std::ptrdiff_t>(k + 1));
                std::string prefixText, turnText;
                try {
                    prefixText = chatTemplate.render(before, true);
                    turnText = chatTemplate.render(upTo, false);
                } catch (const JinjaRenderError &error) {
                    return skipped(record, "rejected by the chat template",
                                   std::string("the chat template rejected a prefix of it: ") + error.what());
                }
                if (!startsWith(full, prefixText) || !startsWith(full, turnText)) {
                    // The template renders earlier turns differently once later ones follow (e.g. it drops
                    // reasoning): only the final answer can be located.
                    result.notPrefixStable = true;
                    if (k != lastAssistant)
                        continue;
                }
                size_t begin = commonPrefix(tokenizer.encode(prefixText, rawTemplate), example.inputIds);
                size_t end = k == messages.size() - 1
                                 ? example.inputIds.size()
                                 : commonPrefix(tokenizer.encode(turnText, rawTemplate), example.inputIds);
                for (size_t i = begin; i < end; ++i)
                    example.labels[i] = example.inputIds[i];
            }
        }
    }
    example.untruncatedLength = static_cast<int64_t>(example.inputIds.size());
    auto countTrained = [&] {
        return std::count_if(example.labels.begin(), example.labels.end(),
                             [](int64_t l) { return l != kIgnoreLabel; });
    };
    if (countTrained() == 0)
        return skipped(record, "nothing to train on",
                       "no token is trained (the answer renders to no tokens)");
    if (options.maxLength > 0 && example.untruncatedLength > options.maxLength) {
        example.inputIds.resize(static_cast<size_t>(options.maxLength));
        example.labels.resize(static_cast<size_t>(options.maxLength));
        example.truncated = true;
        if (countTrained() == 0)
            return skipped(record, "answer beyond max length",
                           "all trained tokens lie beyond the maximum length of " +
                               std::to_string(options.maxLength) + " tokens (it has " +
                               std::to_string(example.untruncatedLength) +
                               "): raise --max-length or shorten the prompt");
    }
    result.ok = true;
    return result;
}

} // namespace emloc::core
