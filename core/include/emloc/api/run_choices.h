#pragma once
// The named choices of a run's settings, one table each: the name people and files use first, then the
// other spellings accepted for it. Core's readers parse with these tables and the CLI's flags check
// with them before the engine starts (the launcher links nothing of core), so whatever one accepts the
// other accepts too. Torch-free and header-only.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace emloc::core {

enum class RecordFormat { Auto, Alpaca, Messages, ShareGpt, PromptCompletion, Text };
enum class TemplateKind { Jinja, ChatML, Llama3, Llama2, Alpaca, Plain };
enum class LrSchedule { Cosine, Linear, Constant };
enum class MatchMetric { Exact, Contains };
enum class ExportFormat { Peft, Merged, GgufLora, GgufMerged, GgufMmproj, Ollama };

template <class Value> struct NamedChoice
{
    Value value;
    std::string_view name;
    std::array<std::string_view, 2> aliases{};
};

inline constexpr std::array<NamedChoice<RecordFormat>, 6> kRecordFormatChoices{{
    {RecordFormat::Auto, "auto"},
    {RecordFormat::Alpaca, "alpaca"},
    {RecordFormat::Messages, "messages", {"openai", "chat"}},
    {RecordFormat::ShareGpt, "sharegpt"},
    {RecordFormat::PromptCompletion, "prompt-completion", {"completion"}},
    {RecordFormat::Text, "text"},
}};

// The built-in chat templates; "auto" (the model's own, else the built-in of its family) is not a kind.
inline constexpr std::array<NamedChoice<TemplateKind>, 6> kChatTemplateChoices{{
    {TemplateKind::Jinja, "jinja"},
    {TemplateKind::ChatML, "chatml"},
    {TemplateKind::Llama3, "llama3"},
    {TemplateKind::Llama2, "llama2", {"mistral"}},
    {TemplateKind::Alpaca, "alpaca"},
    {TemplateKind::Plain, "plain"},
}};

inline constexpr std::array<NamedChoice<LrSchedule>, 3> kLrScheduleChoices{{
    {LrSchedule::Cosine, "cosine"},
    {LrSchedule::Linear, "linear"},
    {LrSchedule::Constant, "constant"},
}};

inline constexpr std::array<NamedChoice<MatchMetric>, 2> kMatchMetricChoices{{
    {MatchMetric::Exact, "exact"},
    {MatchMetric::Contains, "contains"},
}};

inline constexpr std::array<NamedChoice<ExportFormat>, 6> kExportFormatChoices{{
    {ExportFormat::Peft, "peft"},
    {ExportFormat::Merged, "merged"},
    {ExportFormat::GgufLora, "gguf-lora"},
    {ExportFormat::GgufMerged, "gguf-merged"},
    {ExportFormat::GgufMmproj, "gguf-mmproj"},
    {ExportFormat::Ollama, "ollama"},
}};

// The value a name (or one of its other spellings) stands for; nullopt for any other name.
template <class Value, std::size_t N>
std::optional<Value> choiceFromName(const std::array<NamedChoice<Value>, N> &choices, std::string_view name)
{
    for (const NamedChoice<Value> &choice : choices)
        if (name == choice.name ||
            (!name.empty() && (name == choice.aliases[0] || name == choice.aliases[1])))
            return choice.value;
    return std::nullopt;
}

// The name of a value, as files and screens show it.
template <class Value, std::size_t N>
std::string choiceName(const std::array<NamedChoice<Value>, N> &choices, Value value)
{
    for (const NamedChoice<Value> &choice : choices)
        if (choice.value == value)
            return std::string(choice.name);
    return std::string(choices.front().name);
}

// The names for a message: "a, b, c or d" (lastSeparator " or "), or "a, b, c, d".
template <class Value, std::size_t N>
std::string choiceNames(const std::array<NamedChoice<Value>, N> &choices,
                        std::string_view lastSeparator = ", ")
{
    std::string names;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0)
            names += i + 1 == N ? lastSeparator : std::string_view(", ");
        names += choices[i].name;
    }
    return names;
}

} // namespace emloc::core
