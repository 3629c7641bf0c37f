// The Jinja engine and the built-in renderers against transformers' own rendering (jinja2 with
// trim_blocks, lstrip_blocks and transformers' globals): real model templates and single features.
#include "chat_templates_fixture.h"

#include "emloc/text/chat_template.h"
#include "emloc/text/jinja.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

using namespace emloc::core;
using nlohmann::json;

namespace {

struct Case
{
    std::string name;
    std::string source;
    json variables;
    // When set, a built-in renderer must produce the same text as the Jinja reference.
    bool checkBuiltin = false;
    TemplateKind builtin = TemplateKind::ChatML;
};

json conversation(std::initializer_list<std::pair<const char *, const char *>> turns)
{
    json messages = json::array();
    for (const auto &turn : turns)
        messages.push_back({{"role", turn.first}, {"content", turn.second}});
    return messages;
}

std::vector<json> conversations()
{
    return {
        conversation({{"system", "You are terse."},
                      {"user", "What is 2+2?"},
                      {"assistant", "4"},
                      {"user", "And 3+3?"},
                      {"assistant", "6"}}),
        conversation({{"user", "Hi there"}, {"assistant", "Hello! How can I help?"}}),
        conversation({{"user", "Only a question"}}),
        conversation({{"system", "  Sys with spaces \n"},
                      {"user", "  H\u00e9llo \"w\u00f6rld\" 'x' \u4f60\u597d\n\n  "},
                      {"assistant", "\n Answer with {{ braces }} and {% tags %}  "}}),
        conversation({{"user", "first"}, {"user", "second"}}), // roles do not alternate
    };
}

// Renders the cases with transformers in one Python run.
json referenceRenderings(const std::vector<Case> &cases, emloc::test::TempDir &dir)
{
    json input = json::array();
    for (const auto &c : cases)
        input.push_back({{"template", c.source}, {"variables", c.variables}});
    std::string casesPath = dir.filePath("cases.json"), outPath = dir.filePath("out.json");
    std::ofstream(casesPath) << input.dump();
    auto result = emloc::test::runPythonScript("dataset_render_templates.py", {"render", casesPath, outPath});
    if (result.exitCode != 0)
        FAIL("reference renderer failed: " + result.err);
    return emloc::test::readJsonFile(outPath);
}

void compareWithReference(const std::vector<Case> &cases, const json &reference)
{
    COMPARE(reference.size(), cases.size());
    int compared = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const Case &c = cases[i];
        const json &expected = reference[i];
        std::string mine;
        std::string error;
        try {
            JinjaTemplate t(c.source);
            mine = t.render(c.variables);
        } catch (const std::exception &e) {
            error = e.what();
        }
        const std::string label = c.name + " (case " + std::to_string(i) + ")";
        if (expected["ok"].get<bool>()) {
            if (!error.empty())
                FAIL(label + ": we failed with: " + error);
            if (mine != expected["text"].get<std::string>())
                FAIL(label + ":\n--- ours\n" + mine + "\n--- jinja2\n" + expected["text"].get<std::string>());
        } else {
            if (error.empty())
                FAIL(label + ": jinja2 failed (" + expected["error"].get<std::string>() +
                     ") but we rendered: " + mine);
            // raise_exception's message is the template's own text: it must come through unchanged.
            if (expected["type"] == "TemplateError")
                COMPARE(error, expected["error"].get<std::string>());
        }
        if (c.checkBuiltin && expected["ok"].get<bool>()) {
            std::vector<ChatMessage> messages;
            for (const auto &m : c.variables["messages"])
                messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
            ChatTemplate builtin =
                ChatTemplate::builtin(c.builtin, c.variables["bos_token"], c.variables["eos_token"]);
            std::string text = builtin.render(messages, c.variables["add_generation_prompt"].get<bool>());
            if (text != expected["text"].get<std::string>())
                FAIL(label + " built-in " + ChatTemplate::kindName(c.builtin) + ":\n--- ours\n" + text +
                     "\n--- jinja2\n" + expected["text"].get<std::string>());
        }
        ++compared;
    }
    COMPARE(compared, static_cast<int>(cases.size()));
}

} // namespace

TEST_CASE(modelTemplatesMatchTransformers)
{
    emloc::test::TempDir dir;
    auto gguf = emloc::test::runPythonScript("dataset_render_templates.py",
                                             {"gguf-template", emloc::test::demoGgufPath()});
    COMPARE(gguf.exitCode, 0);
    json smol = json::parse(gguf.out);
    VERIFY(smol["chat_template"].is_string());

    struct Model
    {
        std::string name, source, bos, eos;
        bool hasBuiltin;
        TemplateKind builtin;
    };
    std::vector<Model> models = {
        {"qwen2.5", emloc::test::templates::kQwen25, "", "<|im_end|>", false, TemplateKind::ChatML},
        {"chatml", emloc::test::templates::kChatMl, "", "<|im_end|>", true, TemplateKind::ChatML},
        {"llama3", emloc::test::templates::kLlama3, "<|begin_of_text|>", "<|eot_id|>", true,
         TemplateKind::Llama3},
        {"llama3.1", emloc::test::templates::kLlama31, "<|begin_of_text|>", "<|eot_id|>", false,
         TemplateKind::Llama3},
        {"mistral-v0.1", emloc::test::templates::kMistralV01, "<s>", "</s>", false, TemplateKind::Llama2},
        {"llama2", emloc::test::templates::kLlama2, "<s>", "</s>", true, TemplateKind::Llama2},
        {"smollm2", smol["chat_template"], smol["bos_token"], smol["eos_token"], false, TemplateKind::ChatML},
    };
    std::vector<Case> cases;
    for (const auto &model : models) {
        int index = 0;
        for (const auto &messages : conversations()) {
            for (bool generationPrompt : {false, true}) {
                Case c;
                c.name = model.name + " conversation " + std::to_string(index);
                c.source = model.source;
                c.variables = {{"messages", messages},
                               {"add_generation_prompt", generationPrompt},
                               {"bos_token", model.bos},
                               {"eos_token", model.eos}};
                c.checkBuiltin = model.hasBuiltin;
                c.builtin = model.builtin;
                cases.push_back(c);
            }
            ++index;
        }
    }
    // The tool paths of Qwen 2.5 and Llama 3.1 exercise tojson (with indent), items and reject.
    json tools = json::array({{{"type", "function"},
                               {"function",
                                {{"name", "get_weather"},
                                 {"description", "Weather for a city, \"quoted\" and caf\u00e9"},
                                 {"parameters",
                                  {{"type", "object"},
                                   {"properties", {{"city", {{"type", "string"}}}}},
                                   {"required", {"city"}}}}}}}});
    json toolConversation = conversation({{"system", "Use tools."}, {"user", "Weather in Paris?"}});
    toolConversation.push_back(
        {{"role", "assistant"},
         {"content", ""},
         {"tool_calls",
          {{{"type", "function"},
            {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}, {"unit", 1.5}}}}}}}}});
    toolConversation.push_back({{"role", "tool"}, {"content", "18 C"}});
    for (const char *source : {emloc::test::templates::kQwen25, emloc::test::templates::kLlama31}) {
        Case c;
        c.name = "tools";
        c.source = source;
        c.variables = {{"messages", toolConversation},  {"tools", tools},
                       {"add_generation_prompt", true}, {"bos_token", "<s>"},
                       {"eos_token", "</s>"},           {"builtin_tools", {"code_interpreter", "wolfram"}}};
        cases.push_back(c);
    }
    json reference = referenceRenderings(cases, dir);
    compareWithReference(cases, reference);
    emloc::test::info(
        emloc::test::str(cases.size(), " model-template renderings equal transformers' output"));
}

TEST_CASE(jinjaFeaturesMatchJinja2)
{
    json vars = {
        {"xs", {1, 2, 3}},
        {"obj", {{"a", 1}, {"b", {true, nullptr, 2.5}}}},
        {"x", "val"},
        {"msgs", conversation({{"system", "s"}, {"user", "u1"}, {"assistant", "a1"}, {"user", "u2"}})}};
    std::vector<std::string> sources = {
        // whitespace control with trim_blocks + lstrip_blocks
        "  {% if true %}\n  yes\n  {% endif %}\n  end",
        "a  {%- if true -%}  b  {%- endif -%}  c",
        "{{ 'x' }}  {% if true %}y{% endif %}\n",
        "line\n    {# comment #}\nnext\n    {#- c2 -#}   after",
        "  {%+ if true %}x{% endif %}",
        "{% if true +%}\nx{% endif %}",
        "abc\n",
        "a\r\nb {{ 'c' -}} \n d",
        "{% for m in msgs %}\n    {{ m.role }}\n{% endfor %}\n",
        // loops, scoping, namespaces, loop controls
        "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length "
        "}}"
        "{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %}",
        "{% for x in xs %}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }}{% endfor "
        "%}",
        "{% set ns = namespace(found=false, n=0) %}{% for x in xs %}{% if x > 1 %}{% set ns.found = true "
        "%}"
        "{% set ns.n = ns.n + x %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }}",
        "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}",
        "{% for k, v in obj.items() %}{{ k }}={{ v }};{% endfor %}{% for x in [] %}x{% else %}empty{% "
        "endfor %}",
        "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}{% endif "
        "%}{{ x }}"
        "{% endfor %}",
        "{% for x in xs if x > 1 %}{{ loop.index }}:{{ x }} {% endfor %}",
        "{% for k in obj %}{{ k }}{% endfor %}{% for c in 'h\u00e9' %}[{{ c }}]{% endfor %}",
        "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set s %}x{{ a }}y{% endset %}[{{ s }}]",
        "{% generation %}gen{{ 1 }}{% endgeneration %}",
        // filters
        "{{ '  a b  ' | trim }}|{{ xs | length }}|{{ xs | first }}|{{ xs | last }}|{{ xs | join('-') }}|"
        "{{ 'abc' | upper }}|{{ missing | default('d') }}|{{ '' | default('e', true) }}|{{ 'AbC' | lower "
        "}}",
        "{{ msgs | selectattr('role', 'equalto', 'user') | list | length }}|{{ msgs | "
        "map(attribute='role') | "
        "join(',') }}|{{ xs | reject('equalto', 2) | list }}|{{ msgs | rejectattr('role', 'in', "
        "['user']) | "
        "map(attribute='content') | list }}|{{ xs | select('odd') | list }}|{{ msgs | "
        "selectattr('content') | "
        "list | count }}",
        "{{ obj | tojson }}|{{ obj | tojson(indent=2) }}|{{ 'caf\u00e9 \"q\" <b> \\n' | tojson }}|{{ xs "
        "| "
        "tojson(separators=[',', ':']) }}|{{ {'b': 1, 'a': [1.0, 1e20, 0.5]} | tojson(sort_keys=true) }}",
        "{{ obj | items | list }}|{{ 'x' | replace('x', 'y') }}|{{ 3.7 | int }}|{{ '42' | int + 1 }}|{{ "
        "-3 | abs "
        "}}|{{ 'hello world' | title }}|{{ 'hello' | capitalize }}|{{ 5 | string ~ 'x' }}|{{ xs | list "
        "}}",
        // slicing and indexing
        "{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::-1] }}{{ 'h\u00e9llo'[1:3] }}{{ xs[-1] }}{{ xs[5] }}|{{ "
        "msgs[0].role }}"
        "{{ msgs[0]['content'] }}{{ msgs.0.role }}{{ xs[0:10:2] }}",
        // operators
        "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} "
        "{{ 'a' ~ 1 ~ none }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ 3 in xs }} {{ 'b' not in "
        "'abc' }} "
        "{{ xs + [4] }} {{ 'ab' * 2 }} {{ -xs[0] }} {{ 1.5 + 1 }} {{ 10 / 4 * 2 }}",
        "{{ (xs | length) > 2 and not false or none }}|{{ none or 'fallback' }}|{{ 0 and 'no' }}|{{ 'a' "
        "if "
        "x else 'b' }}|{{ 'y' if false }}|{{ 'v' if x == 'val' else 'w' if true else 'z' }}",
        // tests
        "{{ x is defined }} {{ y is defined }} {{ none is none }} {{ 'a' is string }} {{ xs is iterable "
        "}} "
        "{{ obj is mapping }} {{ 3 is odd }} {{ 4 is divisibleby 2 }} {{ x is not none }} {{ 1 is number "
        "}} "
        "{{ xs is sequence }} {{ 'b' is in 'abc' }} {{ 2 is equalto 2 }} {{ y is undefined }} {{ true is "
        "boolean }}",
        // methods and literals
        "{{ ' a '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'abc'.startswith('ab') }}|{{ "
        "'abc'.endswith(('x', "
        "'c')) }}|{{ 'a,b'.split(',') }}|{{ ' a  b '.split() }}|{{ 'Hello'.lower() }}|{{ 'x y'.replace(' "
        "', '_') "
        "}}|{{ obj.get('a') }}|{{ obj.get('zz', 'dflt') }}|{{ obj.keys() | list }}|{{ 'abc'.upper() }}",
        "{{ xs }} {{ obj }} {{ 1.5 }} {{ 1e20 }} {{ 0.00001 }} {{ 100.0 }} {{ none }} {{ true }} {{ [1, "
        "'a', "
        "none, \"it's\"] }} {{ (1, 2) }} {{ {'k': 'v'} }} {{ 1_000 }}",
        "{{ 'a\\nb\\t\\'q\\'\\\\' }}|{{ \"d\\\"q\\u00e9\" }}|{{ 'con' 'cat' }}",
        "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ dict(a=1) }}{% for i in range(2) %}{{ i }}{% "
        "endfor %}",
        // errors
        "{{ raise_exception('bad ' ~ 1) }}",
        "{{ missing.attr }}",
        "{{ 'a' + 1 }}",
        "{% for m in msgs %}{% if m.role == 'user' %}{{ raise_exception('user at ' ~ loop.index0) }}{% "
        "endif "
        "%}{% endfor %}",
    };
    std::vector<Case> cases;
    for (const auto &source : sources) {
        Case c;
        c.name = source.substr(0, 40);
        c.source = source;
        c.variables = vars;
        cases.push_back(c);
    }
    emloc::test::TempDir dir;
    compareWithReference(cases, referenceRenderings(cases, dir));
}
