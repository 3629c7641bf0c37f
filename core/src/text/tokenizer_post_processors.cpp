#include "emloc/api/error.h"
#include "tokenizer_components.h"

namespace emloc::core::text {

namespace {

// TemplateProcessing's "single" template: special-token id lists around the sequence "A".
class TemplatePostProcessor : public PostProcessor
{
public:
    // An empty item list stands for the sequence itself.
    explicit TemplatePostProcessor(std::vector<std::vector<int64_t>> items) : m_items(std::move(items)) {}

    void addSpecialTokens(std::vector<int64_t> &ids) const override
    {
        std::vector<int64_t> out;
        out.reserve(ids.size() + 4);
        for (const auto &item : m_items) {
            if (item.empty())
                out.insert(out.end(), ids.begin(), ids.end());
            else
                out.insert(out.end(), item.begin(), item.end());
        }
        ids = std::move(out);
    }

private:
    std::vector<std::vector<int64_t>> m_items;
};

class NoOpPostProcessor : public PostProcessor
{
public:
    void addSpecialTokens(std::vector<int64_t> &) const override {}
};

class SequencePostProcessor : public PostProcessor
{
public:
    explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> steps)
        : m_steps(std::move(steps))
    {}
    void addSpecialTokens(std::vector<int64_t> &ids) const override
    {
        for (const auto &step : m_steps)
            step->addSpecialTokens(ids);
    }

private:
    std::vector<std::unique_ptr<PostProcessor>> m_steps;
};

std::unique_ptr<PostProcessor> makeTemplate(const nlohmann::json &json, const std::string &where)
{
    if (!json.contains("single") || !json["single"].is_array())
        throw Error(where + ": missing the 'single' template");
    const nlohmann::json specials = json.value("special_tokens", nlohmann::json::object());
    std::vector<std::vector<int64_t>> items;
    for (const nlohmann::json &piece : json["single"]) {
        if (piece.contains("Sequence")) {
            items.emplace_back();
            continue;
        }
        if (!piece.contains("SpecialToken") || !piece["SpecialToken"].contains("id"))
            throw Error(where + ": template piece " + piece.dump() +
                        " is neither a Sequence nor a SpecialToken");
        const std::string name = piece["SpecialToken"]["id"].get<std::string>();
        if (!specials.contains(name) || !specials[name].contains("ids") ||
            !specials[name]["ids"].is_array() || specials[name]["ids"].empty())
            throw Error(where + ": the special token '" + name +
                        "' of the template has no ids in 'special_tokens'");
        items.push_back(specials[name]["ids"].get<std::vector<int64_t>>());
    }
    return std::make_unique<TemplatePostProcessor>(std::move(items));
}

int64_t pairId(const nlohmann::json &json, const char *name, const std::string &where)
{
    if (!json.contains(name) || !json[name].is_array() || json[name].size() != 2 ||
        !json[name][1].is_number_integer())
        throw Error(where + ": field '" + name + "' must be [token, id]");
    return json[name][1].get<int64_t>();
}

} // namespace

std::unique_ptr<PostProcessor> makePostProcessor(const nlohmann::json &json, const std::string &context)
{
    if (json.is_null())
        return nullptr;
    const std::string type = componentType(json, context);
    const std::string where = context + " (" + type + ")";
    if (type == "TemplateProcessing")
        return makeTemplate(json, where);
    if (type == "ByteLevel") // only trims offsets; the ids are unchanged
        return std::make_unique<NoOpPostProcessor>();
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        std::vector<std::vector<int64_t>> items{
            {pairId(json, "cls", where)}, {}, {pairId(json, "sep", where)}};
        return std::make_unique<TemplatePostProcessor>(std::move(items));
    }
    if (type == "Sequence") {
        if (!json.contains("processors") || !json["processors"].is_array())
            throw Error(where + ": missing the 'processors' list");
        std::vector<std::unique_ptr<PostProcessor>> steps;
        for (size_t i = 0; i < json["processors"].size(); ++i) {
            auto step =
                makePostProcessor(json["processors"][i], context + ".processors[" + std::to_string(i) + "]");
            if (step)
                steps.push_back(std::move(step));
        }
        return std::make_unique<SequencePostProcessor>(std::move(steps));
    }
    throw Error(
        where + ": the post-processor type '" + type +
        "' is not supported (supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, "
        "Sequence)");
}

} // namespace emloc::core::text
