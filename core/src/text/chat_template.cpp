// Chat templates: the model's Jinja template when the engine can run it, else a built-in renderer of
// the same family (ChatML, Llama 3, Llama 2 / Mistral), plus "alpaca" and "plain" for base models.
#include "emloc/text/chat_template.h"

#include "emloc/api/error.h"

namespace emloc::core {

namespace {

const char *const kAlpacaPreamble = "Below is an instruction that describes a task. Write a response that "
                                    "appropriately completes the request.";

std::string tokenText(const nlohmann::json &config, const char *key)
{
    auto it = config.find(key);
    if (it == config.end())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        return (*it)["content"].get<std::string>();
    return {};
}

// tokenizer_config.json holds one template string, or a list of named ones ("default", "tool_use", ...).
std::string templateSource(const nlohmann::json &config)
{
    auto it = config.find("chat_template");
    if (it == config.end() || it->is_null())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_array()) {
        std::string first;
        for (const auto &entry : *it) {
            if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string())
                continue;
            if (first.empty())
                first = entry["template"].get<std::string>();
            if (entry.value("name", std::string()) == "default")
                return entry["template"].get<std::string>();
        }
        return first;
    }
    throw Error("tokenizer_config.json: \"chat_template\" must be a string or a list of {name, template}");
}

std::string trimmed(const std::string &s)
{
    const char *space = " \t\n\r\v\f";
    size_t begin = s.find_first_not_of(space);
    if (begin == std::string::npos)
        return {};
    size_t end = s.find_last_not_of(space);
    return s.substr(begin, end - begin + 1);
}

} // namespace

TemplateKind ChatTemplate::parseKind(const std::string &name)
{
    if (const std::optional<TemplateKind> kind = choiceFromName(kChatTemplateChoices, name))
        return *kind;
    throw Error("unknown chat template \"" + name + "\": use auto, " +
                choiceNames(kChatTemplateChoices, " or "));
}

std::string ChatTemplate::kindName(TemplateKind kind)
{
    return choiceName(kChatTemplateChoices, kind);
}

TemplateKind ChatTemplate::detectFamily(const std::string &source)
{
    if (source.find("<|im_start|>") != std::string::npos)
        return TemplateKind::ChatML;
    if (source.find("<|start_header_id|>") != std::string::npos)
        return TemplateKind::Llama3;
    if (source.find("[INST]") != std::string::npos)
        return TemplateKind::Llama2;
    return TemplateKind::Plain;
}

std::string ChatTemplate::name() const
{
    return m_kind == TemplateKind::Jinja ? std::string("jinja (model)") : kindName(m_kind);
}

ChatTemplate ChatTemplate::fromJinja(const std::string &source, std::string bosToken, std::string eosToken)
{
    ChatTemplate result;
    result.m_kind = TemplateKind::Jinja;
    result.m_jinja = std::make_shared<const JinjaTemplate>(source);
    result.m_bos = std::move(bosToken);
    result.m_eos = std::move(eosToken);
    return result;
}

ChatTemplate ChatTemplate::builtin(TemplateKind kind, std::string bosToken, std::string eosToken)
{
    if (kind == TemplateKind::Jinja)
        throw Error("the jinja template kind needs a template source");
    ChatTemplate result;
    result.m_kind = kind;
    result.m_bos = std::move(bosToken);
    result.m_eos = std::move(eosToken);
    return result;
}

ChatTemplate ChatTemplate::fromModel(const nlohmann::json &tokenizerConfig, const std::string &choice)
{
    std::string bos = tokenText(tokenizerConfig, "bos_token");
    std::string eos = tokenText(tokenizerConfig, "eos_token");
    std::string source = templateSource(tokenizerConfig);
    if (choice != "auto" && choice != "jinja")
        return builtin(parseKind(choice), bos, eos);
    if (source.empty()) {
        if (choice == "jinja")
            throw Error("the model has no chat template (tokenizer_config.json \"chat_template\" or GGUF "
                        "tokenizer.chat_template): choose a built-in template (chatml, llama3, llama2, "
                        "alpaca, plain)");
        ChatTemplate plain = builtin(TemplateKind::Plain, bos, eos);
        plain.m_warnings.push_back("the model has no chat template: conversations are rendered as plain text "
                                   "(choose a template with --template for an instruction format)");
        return plain;
    }
    try {
        ChatTemplate result = fromJinja(source, bos, eos);
        // A trial render finds methods and calls the engine cannot run before any record depends on them.
        try {
            result.render({{"user", "Hi"}, {"assistant", "Hello"}}, false);
            result.render({{"user", "Hi"}}, true);
        } catch (const JinjaRenderError &) {
            // raise_exception for this probe conversation: the template runs, it just rejects the probe.
        }
        return result;
    } catch (const JinjaUnsupported &error) {
        if (choice == "jinja")
            throw; // asked for the model's own template explicitly: no silent substitute
        TemplateKind family = detectFamily(source);
        ChatTemplate fallback = builtin(family, bos, eos);
        fallback.m_warnings.push_back(std::string("the model's chat template cannot be run here (") +
                                      error.what() + "); rendering with the built-in \"" + kindName(family) +
                                      "\" template instead, which may differ from the model's own format");
        return fallback;
    }
}

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages, bool addGenerationPrompt) const
{
    if (m_kind != TemplateKind::Jinja)
        return renderBuiltin(messages, addGenerationPrompt);
    nlohmann::json list = nlohmann::json::array();
    for (const auto &message : messages)
        list.push_back({{"role", message.role}, {"content", message.content}});
    nlohmann::json variables = {{"messages", list},
                                {"add_generation_prompt", addGenerationPrompt},
                                {"bos_token", m_bos},
                                {"eos_token", m_eos}};
    return m_jinja->render(variables);
}

std::string ChatTemplate::renderBuiltin(const std::vector<ChatMessage> &messages,
                                        bool addGenerationPrompt) const
{
    std::string out;
    switch (m_kind) {
    case TemplateKind::ChatML:
        for (const auto &m : messages)
            out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        if (addGenerationPrompt)
            out += "<|im_start|>assistant\n";
        return out;
    case TemplateKind::Llama3:
        for (size_t i = 0; i < messages.size(); ++i) {
            if (i == 0)
                out += m_bos;
            out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
                   trimmed(messages[i].content) + "<|eot_id|>";
        }
        if (addGenerationPrompt)
            out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
        return out;
    case TemplateKind::Llama2: {
        // Meta's Llama 2 template: the system prompt folds into the first user turn, roles alternate.
        size_t first = 0;
        std::string system;
        bool hasSystem = !messages.empty() && messages[0].role == "system";
        if (hasSystem) {
            system = messages[0].content;
            first = 1;
        }
        for (size_t i = first; i < messages.size(); ++i) {
            const ChatMessage &m = messages[i];
            bool expectUser = (i - first) % 2 == 0;
            if ((m.role == "user") != expectUser)
                throw JinjaRenderError("Conversation roles must alternate user/assistant/user/assistant/...");
            std::string content = m.content;
            if (i == first && hasSystem)
                content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
            if (m.role == "user")
                out += m_bos + "[INST] " + trimmed(content) + " [/INST]";
            else if (m.role == "assistant")
                out += " " + trimmed(content) + " " + m_eos;
        }
        return out;
    }
    case TemplateKind::Alpaca: {
        size_t first = 0;
        if (!messages.empty() && messages[0].role == "system") {
            out = messages[0].content;
            first = 1;
        } else {
            out = kAlpacaPreamble;
        }
        for (size_t i = first; i < messages.size(); ++i) {
            const ChatMessage &m = messages[i];
            if (m.role == "assistant")
                out += "\n\n### Response:\n" + m.content + m_eos;
            else
                out += "\n\n### Instruction:\n" + m.content;
        }
        if (addGenerationPrompt)
            out += "\n\n### Response:\n";
        return out;
    }
    case TemplateKind::Plain:
        for (const auto &m : messages) {
            out += m.content;
            if (m.role == "assistant")
                out += m_eos;
        }
        return out;
    case TemplateKind::Jinja:
        break;
    }
    return out;
}

} // namespace emloc::core
