// The Jinja engine's own behaviour (the reference suite compares it with jinja2): results fixed by
// Python semantics, errors, and the chat template fallbacks.
#include "chat_templates_fixture.h"

#include "emloc/text/chat_template.h"
#include "emloc/text/jinja.h"

#include "unit_test.h"

#include <string>
#include <utility>
#include <vector>

using namespace emloc::core;
using nlohmann::json;

namespace {
std::string render(const std::string &source, const json &variables = json::object())
{
    return JinjaTemplate(source).render(variables);
}
} // namespace

TEST_CASE(pythonSemantics)
{
    COMPARE(render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 2.0 }}"),
            std::string("-4 2 3.5 0.30000000000000004 1e-05 2.0"));
    COMPARE(render("{{ [1, 'a', none, true] }} {{ {'k': \"it's\"} }}"),
            std::string("[1, 'a', None, True] {'k': \"it's\"}"));
    COMPARE(render("{{ 'h\u00e9llo'[1:4] }}|{{ 'h\u00e9llo' | length }}"), std::string("\u00e9ll|5"));
    COMPARE(render("{{ x | tojson }}", {{"x", {{"b", 1}, {"a", {1.5, nullptr, "\u00e9\n"}}}}}),
            std::string("{\"a\": [1.5, null, \"\u00e9\\n\"], \"b\": 1}")); // nlohmann orders object keys
}

TEST_CASE(whitespaceControl)
{
    // trim_blocks removes the newline after a block tag, lstrip_blocks the indentation before it.
    COMPARE(render("<\n  {% if true %}\n  x\n  {% endif %}\n>"), std::string("<\n  x\n>"));
    COMPARE(render("a \n {{- 'b' -}} \n c"), std::string("abc"));
    COMPARE(render("{{ 'v' }}  {% if true %}y{% endif %}"), std::string("v  y"));
    COMPARE(render("end\n"), std::string("end")); // keep_trailing_newline=False
}

TEST_CASE(scopesAndNamespaces)
{
    COMPARE(render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}"),
            std::string("231"));
    COMPARE(
        render("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}"
               "{{ ns.n }}"),
        std::string("6"));
    COMPARE(render("{% set messages = messages[1:] %}{{ messages | length }}", {{"messages", {1, 2, 3}}}),
            std::string("2"));
}

TEST_CASE(raiseExceptionCarriesTheMessage)
{
    JinjaTemplate t(emloc::test::templates::kMistralV01);
    json vars = {
        {"messages", {{{"role", "system"}, {"content", "s"}}}}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
    try {
        t.render(vars);
        FAIL("expected a JinjaRenderError");
    } catch (const JinjaRenderError &e) {
        COMPARE(std::string(e.what()),
                std::string("Conversation roles must alternate user/assistant/user/assistant/..."));
    }
}

TEST_CASE(errorsNameTheLine)
{
    try {
        render("line one\n{{ missing.attr }}");
        FAIL("expected an error");
    } catch (const JinjaRenderError &e) {
        VERIFY2(std::string(e.what()).find("line 2") != std::string::npos, e.what());
        VERIFY2(std::string(e.what()).find("'missing' is undefined") != std::string::npos, e.what());
    }
    try {
        JinjaTemplate t("{% if x %}\n{{ x }");
        FAIL("expected a syntax error");
    } catch (const Error &e) {
        VERIFY2(std::string(e.what()).find("chat template line 2") != std::string::npos, e.what());
    }
}

// A chat template comes with a downloaded model: a hostile one is refused with an Error, never
// undefined behaviour, a hang, a stack overflow or memory exhaustion (cases found by fuzz_chat_template).
TEST_CASE(hostileTemplatesAreRefused)
{
    VERIFY_THROWS(JinjaRenderError, render("{{ 999 ** 8 }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ 2 ** 999999999999999 }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ 9223372036854775807 + 1 }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ -9223372036854775807 - 2 }}"));
    COMPARE(render("{{ 2 ** 62 }} {{ 3 ** 0 }} {{ (-3) ** 3 }}"), std::string("4611686018427387904 1 -27"));
    VERIFY_THROWS(Error, JinjaTemplate("{{ 99999999999999999999 }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ 'ab' * 999999999999 }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ range(99999999999) | length }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ 1e300 | int }}"));
    VERIFY_THROWS(JinjaRenderError, render("{{ [1] | tojson(indent=999999999) }}"));
    COMPARE(render("{{ 2.9 | int }} {{ -2.9 | int }}"), std::string("2 -2"));
    COMPARE(render("{{ range(9223372036854775806, 9223372036854775807, 5) | list }}"),
            std::string("[9223372036854775806]"));

    const std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
    VERIFY_THROWS(Error, JinjaTemplate("{{ " + deep + " }}"));
    std::string chain = "{{ 0";
    for (int i = 0; i < 20000; ++i)
        chain += "+1";
    VERIFY_THROWS(Error, JinjaTemplate(chain + " }}"));
    std::string ordinary = "{{ 0";
    for (int i = 0; i < 100; ++i)
        ordinary += " + 1";
    COMPARE(render(ordinary + " }}"), std::string("100"));

    // Work, not just size, is bounded: loops that would run for minutes stop with an error.
    COMPARE(render("{{ '' * 9999999999 * 9999 }}{{ 'x' * 0 }}{{ 'ab' * -3 }}|"), std::string("|"));
    const auto refusesWork = [](const std::string &source) {
        try {
            render(source);
        } catch (const JinjaRenderError &e) {
            return std::string(e.what()).find("steps of work") != std::string::npos;
        }
        return false;
    };
    VERIFY(refusesWork("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}"));
    VERIFY(refusesWork("{% for i in range(1000000) %}{% for j in range(1000000) %}{{ i ~ j }}"
                       "{% endfor %}{% endfor %}"));
    VERIFY(refusesWork("{% set ns = namespace(x=range(1000) | list) %}{% for i in range(1000000) %}"
                       "{% set ns.y = ns.x | join(',') %}{% endfor %}"));
    VERIFY_THROWS(JinjaRenderError, render("{% set ns = namespace(x='ab') %}{% for i in range(100) %}"
                                           "{% set ns.x = ns.x ~ ns.x %}{% endfor %}"));
}

// The work bound leaves real templates far more room than any dataset's conversation needs.
TEST_CASE(longConversationsRenderWithinTheWorkBound)
{
    std::vector<ChatMessage> conversation = {{"system", "Answer briefly."}};
    for (int i = 0; i < 2000; ++i)
        conversation.push_back({i % 2 == 0 ? "user" : "assistant",
                                "Message " + std::to_string(i) + ": " + std::string(400, 'x')});
    const std::vector<std::pair<const char *, const char *>> templates = {
        {"qwen2.5", emloc::test::templates::kQwen25},     {"llama3.1", emloc::test::templates::kLlama31},
        {"llama3", emloc::test::templates::kLlama3},      {"chatml", emloc::test::templates::kChatMl},
        {"mistral", emloc::test::templates::kMistralV01}, {"llama2", emloc::test::templates::kLlama2}};
    for (const auto &[name, source] : templates) {
        std::vector<ChatMessage> messages = conversation;
        if (std::string(name) == "mistral")
            messages.erase(messages.begin()); // v0.1 refuses system messages
        const std::string text = ChatTemplate::fromJinja(source, "<s>", "</s>").render(messages, true);
        VERIFY2(text.find("Message 1999: ") != std::string::npos, name);
    }
    // Qwen 3's pattern: a reverse pass that reads the whole list on every step (shared, so linear).
    const std::string reversePass =
        "{% set ns = namespace(last=0) %}{% for m in messages[::-1] %}"
        "{% set index = (messages | length - 1) - loop.index0 %}"
        "{% if m.role == 'user' and ns.last == 0 %}{% set ns.last = index %}{% endif %}"
        "{% endfor %}{{ ns.last }}";
    COMPARE(ChatTemplate::fromJinja(reversePass, "<s>", "</s>").render(conversation, false),
            std::string("1999"));
}

TEST_CASE(unsupportedFeaturesAreReportedWhileParsing)
{
    VERIFY_THROWS(JinjaUnsupported, JinjaTemplate("{% macro f(x) %}{{ x }}{% endmacro %}{{ f(1) }}"));
    VERIFY_THROWS(JinjaUnsupported, JinjaTemplate("{{ xs | batch(2) }}"));
    VERIFY_THROWS(JinjaUnsupported, JinjaTemplate("{% include 'other.jinja' %}"));
}

TEST_CASE(unsupportedModelTemplateFallsBackToItsFamily)
{
    // A ChatML template with a macro: the engine cannot run it, so chatml renders, with a warning.
    json config = {{"chat_template",
                    "{% macro turn(m) %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                    "{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}"},
                   {"eos_token", "<|im_end|>"}};
    ChatTemplate t = ChatTemplate::fromModel(config, "auto");
    COMPARE(t.kind(), TemplateKind::ChatML);
    COMPARE(t.warnings().size(), size_t(1));
    VERIFY(t.warnings()[0].find("macro") != std::string::npos);
    COMPARE(t.render({{"user", "hi"}}, true),
            std::string("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));

    json llama = {{"chat_template", std::string(emloc::test::templates::kLlama3) + "{{ x | wordcount }}"},
                  {"bos_token", {{"content", "<|begin_of_text|>"}}}};
    ChatTemplate l = ChatTemplate::fromModel(llama, "auto");
    COMPARE(l.kind(), TemplateKind::Llama3);
    COMPARE(l.bosToken(), std::string("<|begin_of_text|>"));

    // Runtime-only gaps (an unknown string method) are found by the trial render in fromModel.
    json method = {
        {"chat_template", "{% for m in messages %}<|im_start|>{{ m.content.zfill(3) }}{% endfor %}"}};
    COMPARE(ChatTemplate::fromModel(method, "auto").kind(), TemplateKind::ChatML);
}

TEST_CASE(choosingTemplates)
{
    json config = {{"chat_template",
                    {{{"name", "tool_use"}, {"template", "tools"}},
                     {{"name", "default"}, {"template", "{{ messages[0].content }}"}}}}};
    ChatTemplate t = ChatTemplate::fromModel(config, "auto");
    COMPARE(t.kind(), TemplateKind::Jinja);
    COMPARE(t.render({{"user", "x"}}, false), std::string("x"));
    COMPARE(ChatTemplate::fromModel(config, "alpaca").kind(), TemplateKind::Alpaca);
    ChatTemplate none = ChatTemplate::fromModel(json::object(), "auto");
    COMPARE(none.kind(), TemplateKind::Plain);
    COMPARE(none.warnings().size(), size_t(1));
    VERIFY_THROWS(Error, ChatTemplate::fromModel(json::object(), "jinja"));
    try {
        ChatTemplate::fromModel(config, "vicuna");
        FAIL("expected an error");
    } catch (const Error &e) {
        VERIFY(std::string(e.what()).find("chatml, llama3, llama2, alpaca or plain") != std::string::npos);
    }
}

TEST_CASE(builtinBaseModelFormats)
{
    ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "<s>", "</s>");
    COMPARE(alpaca.render({{"user", "Add 2 and 2."}, {"assistant", "4"}}, false),
            std::string("Below is an instruction that describes a task. Write a response that appropriately "
                        "completes the request.\n\n### Instruction:\nAdd 2 and 2.\n\n### Response:\n4</s>"));
    COMPARE(alpaca.render({{"system", "Sys."}, {"user", "Q"}}, true),
            std::string("Sys.\n\n### Instruction:\nQ\n\n### Response:\n"));
    ChatTemplate plain = ChatTemplate::builtin(TemplateKind::Plain, "<s>", "</s>");
    COMPARE(plain.render({{"user", "2+2="}, {"assistant", "4"}}, false), std::string("2+2=4</s>"));
}
