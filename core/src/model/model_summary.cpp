#include "emloc/model_summary.h"

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

} // namespace emloc::core
