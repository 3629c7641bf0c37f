// The Jinja engine's own behaviour (the reference suite compares it with jinja2): results fixed by
// Python semantics, errors, and the chat template fallbacks.
#include "chat_templates_fixture.h"

#include "emloc/text/chat_template.h"
#include "emloc/text/jinja.h"

#include <QtTest>

using namespace emloc::core;
using nlohmann::json;

namespace {
std::string render(const std::string &source, const json &variables = json::object())
{
    return JinjaTemplate(source).render(variables);
}
} // namespace

class TestJinja : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pythonSemantics()
    {
        QCOMPARE(render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 2.0 }}"),
                 std::string("-4 2 3.5 0.30000000000000004 1e-05 2.0"));
        QCOMPARE(render("{{ [1, 'a', none, true] }} {{ {'k': \"it's\"} }}"),
                 std::string("[1, 'a', None, True] {'k': \"it's\"}"));
        QCOMPARE(render("{{ 'h\u00e9llo'[1:4] }}|{{ 'h\u00e9llo' | length }}"), std::string("\u00e9ll|5"));
        QCOMPARE(render("{{ x | tojson }}", {{"x", {{"b", 1}, {"a", {1.5, nullptr, "\u00e9\n"}}}}}),
                 std::string("{\"a\": [1.5, null, \"\u00e9\\n\"], \"b\": 1}")); // nlohmann orders object keys
    }

    void whitespaceControl()
    {
        // trim_blocks removes the newline after a block tag, lstrip_blocks the indentation before it.
        QCOMPARE(render("<\n  {% if true %}\n  x\n  {% endif %}\n>"), std::string("<\n  x\n>"));
        QCOMPARE(render("a \n {{- 'b' -}} \n c"), std::string("abc"));
        QCOMPARE(render("{{ 'v' }}  {% if true %}y{% endif %}"), std::string("v  y"));
        QCOMPARE(render("end\n"), std::string("end")); // keep_trailing_newline=False
    }

    void scopesAndNamespaces()
    {
        QCOMPARE(render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}"),
                 std::string("231"));
        QCOMPARE(
            render(
                "{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}"
                "{{ ns.n }}"),
            std::string("6"));
        QCOMPARE(
            render("{% set messages = messages[1:] %}{{ messages | length }}", {{"messages", {1, 2, 3}}}),
            std::string("2"));
    }

    void raiseExceptionCarriesTheMessage()
    {
        JinjaTemplate t(emloc::test::templates::kMistralV01);
        json vars = {{"messages", {{{"role", "system"}, {"content", "s"}}}},
                     {"bos_token", "<s>"},
                     {"eos_token", "</s>"}};
        try {
            t.render(vars);
            QFAIL("expected a JinjaRenderError");
        } catch (const JinjaRenderError &e) {
            QCOMPARE(std::string(e.what()),
                     std::string("Conversation roles must alternate user/assistant/user/assistant/..."));
        }
    }

    void errorsNameTheLine()
    {
        try {
            render("line one\n{{ missing.attr }}");
            QFAIL("expected an error");
        } catch (const JinjaRenderError &e) {
            QVERIFY2(std::string(e.what()).find("line 2") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("'missing' is undefined") != std::string::npos, e.what());
        }
        try {
            JinjaTemplate t("{% if x %}\n{{ x }");
            QFAIL("expected a syntax error");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("chat template line 2") != std::string::npos, e.what());
        }
    }

    // A chat template comes with a downloaded model: a hostile one is refused with an Error, never
    // undefined behaviour, a hang, a stack overflow or memory exhaustion (cases found by fuzz_chat_template).
    void hostileTemplatesAreRefused()
    {
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ 999 ** 8 }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ 2 ** 999999999999999 }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ 9223372036854775807 + 1 }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ -9223372036854775807 - 2 }}"));
        QCOMPARE(render("{{ 2 ** 62 }} {{ 3 ** 0 }} {{ (-3) ** 3 }}"),
                 std::string("4611686018427387904 1 -27"));
        QVERIFY_THROWS_EXCEPTION(Error, JinjaTemplate("{{ 99999999999999999999 }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ 'ab' * 999999999999 }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ range(99999999999) | length }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ 1e300 | int }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError, render("{{ [1] | tojson(indent=999999999) }}"));
        QCOMPARE(render("{{ 2.9 | int }} {{ -2.9 | int }}"), std::string("2 -2"));
        QCOMPARE(render("{{ range(9223372036854775806, 9223372036854775807, 5) | list }}"),
                 std::string("[9223372036854775806]"));

        const std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
        QVERIFY_THROWS_EXCEPTION(Error, JinjaTemplate("{{ " + deep + " }}"));
        std::string chain = "{{ 0";
        for (int i = 0; i < 20000; ++i)
            chain += "+1";
        QVERIFY_THROWS_EXCEPTION(Error, JinjaTemplate(chain + " }}"));
        std::string ordinary = "{{ 0";
        for (int i = 0; i < 100; ++i)
            ordinary += " + 1";
        QCOMPARE(render(ordinary + " }}"), std::string("100"));

        // Work, not just size, is bounded: loops that would run for minutes stop with an error.
        QCOMPARE(render("{{ '' * 9999999999 * 9999 }}{{ 'x' * 0 }}{{ 'ab' * -3 }}|"), std::string("|"));
        const auto refusesWork = [](const std::string &source) {
            try {
                render(source);
            } catch (const JinjaRenderError &e) {
                return std::string(e.what()).find("steps of work") != std::string::npos;
            }
            return false;
        };
        QVERIFY(refusesWork(
            "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}"));
        QVERIFY(refusesWork("{% for i in range(1000000) %}{% for j in range(1000000) %}{{ i ~ j }}"
                            "{% endfor %}{% endfor %}"));
        QVERIFY(refusesWork("{% set ns = namespace(x=range(1000) | list) %}{% for i in range(1000000) %}"
                            "{% set ns.y = ns.x | join(',') %}{% endfor %}"));
        QVERIFY_THROWS_EXCEPTION(JinjaRenderError,
                                 render("{% set ns = namespace(x='ab') %}{% for i in range(100) %}"
                                        "{% set ns.x = ns.x ~ ns.x %}{% endfor %}"));
    }

    // The work bound leaves real templates far more room than any dataset's conversation needs.
    void longConversationsRenderWithinTheWorkBound()
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
            QVERIFY2(text.find("Message 1999: ") != std::string::npos, name);
        }
        // Qwen 3's pattern: a reverse pass that reads the whole list on every step (shared, so linear).
        const std::string reversePass =
            "{% set ns = namespace(last=0) %}{% for m in messages[::-1] %}"
            "{% set index = (messages | length - 1) - loop.index0 %}"
            "{% if m.role == 'user' and ns.last == 0 %}{% set ns.last = index %}{% endif %}"
            "{% endfor %}{{ ns.last }}";
        QCOMPARE(ChatTemplate::fromJinja(reversePass, "<s>", "</s>").render(conversation, false),
                 std::string("1999"));
    }

    void unsupportedFeaturesAreReportedWhileParsing()
    {
        QVERIFY_THROWS_EXCEPTION(JinjaUnsupported,
                                 JinjaTemplate("{% macro f(x) %}{{ x }}{% endmacro %}{{ f(1) }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaUnsupported, JinjaTemplate("{{ xs | batch(2) }}"));
        QVERIFY_THROWS_EXCEPTION(JinjaUnsupported, JinjaTemplate("{% include 'other.jinja' %}"));
    }

    void unsupportedModelTemplateFallsBackToItsFamily()
    {
        // A ChatML template with a macro: the engine cannot run it, so chatml renders, with a warning.
        json config = {{"chat_template",
                        "{% macro turn(m) %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                        "{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}"},
                       {"eos_token", "<|im_end|>"}};
        ChatTemplate t = ChatTemplate::fromModel(config, "auto");
        QCOMPARE(t.kind(), TemplateKind::ChatML);
        QCOMPARE(t.warnings().size(), size_t(1));
        QVERIFY(t.warnings()[0].find("macro") != std::string::npos);
        QCOMPARE(t.render({{"user", "hi"}}, true),
                 std::string("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));

        json llama = {{"chat_template", std::string(emloc::test::templates::kLlama3) + "{{ x | wordcount }}"},
                      {"bos_token", {{"content", "<|begin_of_text|>"}}}};
        ChatTemplate l = ChatTemplate::fromModel(llama, "auto");
        QCOMPARE(l.kind(), TemplateKind::Llama3);
        QCOMPARE(l.bosToken(), std::string("<|begin_of_text|>"));

        // Runtime-only gaps (an unknown string method) are found by the trial render in fromModel.
        json method = {
            {"chat_template", "{% for m in messages %}<|im_start|>{{ m.content.zfill(3) }}{% endfor %}"}};
        QCOMPARE(ChatTemplate::fromModel(method, "auto").kind(), TemplateKind::ChatML);
    }

    void choosingTemplates()
    {
        json config = {{"chat_template",
                        {{{"name", "tool_use"}, {"template", "tools"}},
                         {{"name", "default"}, {"template", "{{ messages[0].content }}"}}}}};
        ChatTemplate t = ChatTemplate::fromModel(config, "auto");
        QCOMPARE(t.kind(), TemplateKind::Jinja);
        QCOMPARE(t.render({{"user", "x"}}, false), std::string("x"));
        QCOMPARE(ChatTemplate::fromModel(config, "alpaca").kind(), TemplateKind::Alpaca);
        ChatTemplate none = ChatTemplate::fromModel(json::object(), "auto");
        QCOMPARE(none.kind(), TemplateKind::Plain);
        QCOMPARE(none.warnings().size(), size_t(1));
        QVERIFY_THROWS_EXCEPTION(Error, ChatTemplate::fromModel(json::object(), "jinja"));
        try {
            ChatTemplate::fromModel(config, "vicuna");
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("chatml, llama3, llama2, alpaca or plain") !=
                    std::string::npos);
        }
    }

    void builtinBaseModelFormats()
    {
        ChatTemplate alpaca = ChatTemplate::builtin(TemplateKind::Alpaca, "<s>", "</s>");
        QCOMPARE(
            alpaca.render({{"user", "Add 2 and 2."}, {"assistant", "4"}}, false),
            std::string("Below is an instruction that describes a task. Write a response that appropriately "
                        "completes the request.\n\n### Instruction:\nAdd 2 and 2.\n\n### Response:\n4</s>"));
        QCOMPARE(alpaca.render({{"system", "Sys."}, {"user", "Q"}}, true),
                 std::string("Sys.\n\n### Instruction:\nQ\n\n### Response:\n"));
        ChatTemplate plain = ChatTemplate::builtin(TemplateKind::Plain, "<s>", "</s>");
        QCOMPARE(plain.render({{"user", "2+2="}, {"assistant", "4"}}, false), std::string("2+2=4</s>"));
    }
};

QTEST_GUILESS_MAIN(TestJinja)
#include "test_jinja.moc"
