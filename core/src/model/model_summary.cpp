#include "emloc/model/model_summary.h"

#include <algorithm>
#include <map>

namespace emloc::core {

namespace {
bool contains(const std::string &text, const char *part)
{
    return text.find(part) != std::string::npos;
}
} // namespace

ParameterCounts countParameters(const ModelFiles &files)
{
    ParameterCounts counts;
    counts.tiedEmbeddings = files.config.tieWordEmbeddings || !files.weights->contains("lm_head.weight");
    for (const auto &name : files.weights->names()) {
        int64_t count = 1;
        for (int64_t size : files.weights->shape(name))
            count *= size;
        if (name == "model.embed_tokens.weight")
            counts.embeddings += count;
        else if (name.rfind("lm_head.", 0) == 0)
            counts.lmHead += count;
        else if (contains(name, "norm."))
            counts.norms += count;
        else if (contains(name, ".self_attn."))
            counts.attention += count;
        else if (contains(name, ".mlp."))
            counts.mlp += count;
        else
            counts.other += count;
    }
    // A tied model may still store the shared matrix twice; it is one set of parameters.
    if (counts.tiedEmbeddings)
        counts.lmHead = 0;
    return counts;
}

std::vector<StoredType> storedTypes(const ModelFiles &files)
{
    std::map<std::string, StoredType> byType;
    for (const auto &name : files.weights->names()) {
        std::string type = files.weights->storedType(name);
        if (type.empty())
            type = "unknown";
        int64_t count = 1;
        for (int64_t size : files.weights->shape(name))
            count *= size;
        StoredType &entry = byType[type];
        entry.type = type;
        ++entry.tensors;
        entry.parameters += count;
    }
    std::vector<StoredType> types;
    for (auto &entry : byType)
        types.push_back(std::move(entry.second));
    std::stable_sort(types.begin(), types.end(),
                     [](const StoredType &a, const StoredType &b) { return a.parameters > b.parameters; });
    return types;
}

std::string describeStoredTypes(const std::vector<StoredType> &types)
{
    if (types.empty())
        return "no tensors";
    if (types.size() == 1)
        return types.front().type;
    std::string text = "mixed: ";
    for (size_t i = 0; i < types.size(); ++i) {
        // The first count carries the unit: "Q4_1 (210 tensors), Q8_0 (1), F32 (61)".
        const int64_t count = types[i].tensors;
        const char *unit = i > 0 ? "" : count == 1 ? " tensor" : " tensors";
        text += (i == 0 ? "" : ", ") + types[i].type + " (" + std::to_string(count) + unit + ")";
    }
    return text;
}

} // namespace emloc::core
