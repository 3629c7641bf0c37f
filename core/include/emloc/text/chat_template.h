#pragma once

#include "emloc/api/run_choices.h"
#include "emloc/text/jinja.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

// One turn of a conversation; roles are "system", "user" and "assistant".
struct ChatMessage
{
    std::string role;
    std::string content;
};

// How conversations become text: the model's own Jinja chat template, or a built-in renderer.
// Built-ins: "chatml", "llama3", "llama2" (Llama 2 / Mistral [INST] with <<SYS>>), and for base models
// "alpaca" (### Instruction / ### Response) and "plain" (contents concatenated, EOS after each answer).
// TemplateKind and its names: emloc/api/run_choices.h.

// Immutable after construction; render() is thread-safe.
class ChatTemplate
{
public:
    // `choice`: "auto" (the model's template, else "plain"), "jinja" (the model's template, required), or a
    // built-in name. tokenizerConfig is tokenizer_config.json content (chat_template as a string or as a
    // list of {name, template}; bos_token / eos_token as strings or {content}). With "auto", a model template
    // the engine cannot run falls back to the detected family's built-in with a warning (see warnings()).
    // Throws Error for an unknown choice, or "jinja" without a template; JinjaUnsupported for "jinja" with a
    // template the engine cannot run.
    static ChatTemplate fromModel(const nlohmann::json &tokenizerConfig, const std::string &choice = "auto");
    // A Jinja source as given (throws JinjaUnsupported / Error when it cannot be parsed).
    static ChatTemplate fromJinja(const std::string &source, std::string bosToken, std::string eosToken);
    static ChatTemplate builtin(TemplateKind kind, std::string bosToken, std::string eosToken);
    static TemplateKind parseKind(const std::string &name); // throws Error naming the valid names
    static std::string kindName(TemplateKind kind);
    // The built-in family a Jinja source belongs to (ChatML, Llama 3, [INST]); Plain when unrecognised.
    static TemplateKind detectFamily(const std::string &source);

    // Renders as transformers' apply_chat_template(messages, tokenize=False, add_generation_prompt=...).
    // Throws JinjaRenderError when the template rejects the conversation (raise_exception).
    std::string render(const std::vector<ChatMessage> &messages, bool addGenerationPrompt) const;

    TemplateKind kind() const { return m_kind; }
    std::string name() const; // "jinja (model)", "chatml", ...
    const std::string &bosToken() const { return m_bos; }
    const std::string &eosToken() const { return m_eos; }
    const std::vector<std::string> &warnings() const { return m_warnings; }

private:
    std::string renderBuiltin(const std::vector<ChatMessage> &messages, bool addGenerationPrompt) const;

    TemplateKind m_kind = TemplateKind::Plain;
    std::shared_ptr<const JinjaTemplate> m_jinja;
    std::string m_bos;
    std::string m_eos;
    std::vector<std::string> m_warnings;
};

} // namespace emloc::core
