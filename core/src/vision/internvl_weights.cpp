#include "emloc/vision/internvl_weights.h"

#include "emloc/api/error.h"
#include "tensor_names.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace emloc::core {

namespace {

// Which rows of a fused checkpoint tensor one canonical tensor is.
struct RowSplit
{
    enum class Kind { Whole, Thirds, InternLM2 } kind = Kind::Whole;
    int part = 0; // 0 q, 1 k, 2 v
};

struct Entry
{
    std::string stored;
    RowSplit split;
};

class InternVLWeightSource : public WeightSource
{
public:
    InternVLWeightSource(std::shared_ptr<WeightSource> checkpoint, const InternVLConfig &config,
                         InternVLParts parts)
        : m_checkpoint(std::move(checkpoint)), m_config(config)
    {
        for (const std::string &stored : m_checkpoint->names())
            for (auto &[canonical, split] : translate(stored)) {
                if (parts == InternVLParts::LanguageModel && canonical.rfind("model.", 0) != 0 &&
                    canonical != "lm_head.weight")
                    continue;
                m_order.push_back(canonical);
                m_entries[canonical] = Entry{stored, split};
            }
    }

    std::vector<std::string> names() const override { return m_order; }
    bool contains(const std::string &name) const override { return m_entries.count(name) != 0; }

    std::vector<int64_t> shape(const std::string &name) const override
    {
        const Entry &entry = find(name);
        std::vector<int64_t> shape = m_checkpoint->shape(entry.stored);
        if (entry.split.kind != RowSplit::Kind::Whole && !shape.empty())
            shape[0] = rowsOf(entry, shape[0]);
        return shape;
    }

    torch::Tensor tensor(const std::string &name) const override
    {
        const Entry &entry = find(name);
        torch::Tensor stored = m_checkpoint->tensor(entry.stored);
        switch (entry.split.kind) {
        case RowSplit::Kind::Whole:
            return stored;
        case RowSplit::Kind::Thirds: {
            checkRows(entry, stored, stored.size(0) / 3 * 3);
            const int64_t rows = stored.size(0) / 3;
            return stored.narrow(0, entry.split.part * rows, rows).clone();
        }
        case RowSplit::Kind::InternLM2: {
            const ModelConfig &lm = m_config.language;
            const int64_t groups = lm.numHeads / lm.numKeyValueHeads;
            checkRows(entry, stored, lm.numKeyValueHeads * (groups + 2) * lm.headDim);
            torch::Tensor grouped = stored.reshape({lm.numKeyValueHeads, groups + 2, lm.headDim, -1});
            torch::Tensor part = entry.split.part == 0   ? grouped.narrow(1, 0, groups)
                                 : entry.split.part == 1 ? grouped.narrow(1, groups, 1)
                                                         : grouped.narrow(1, groups + 1, 1);
            return part.reshape({-1, stored.size(-1)}).clone();
        }
        }
        return stored;
    }

    std::string storedType(const std::string &name) const override
    {
        return m_checkpoint->storedType(find(name).stored);
    }

    std::string sourceName(const std::string &name) const { return find(name).stored; }

    std::string storedName(const std::string &name) const
    {
        const Entry &entry = find(name);
        if (entry.split.kind != RowSplit::Kind::Whole)
            throw Error("'" + name + "' is a part of the checkpoint's fused tensor '" + entry.stored +
                        "', not a tensor of its own");
        return entry.stored;
    }

private:
    const Entry &find(const std::string &name) const
    {
        const auto found = m_entries.find(name);
        if (found == m_entries.end())
            throw Error("the InternVL checkpoint has no tensor for '" + name +
                        "': the weights are incomplete or do not match config.json");
        return found->second;
    }

    int64_t rowsOf(const Entry &entry, int64_t storedRows) const
    {
        if (entry.split.kind == RowSplit::Kind::Thirds)
            return storedRows / 3;
        const ModelConfig &lm = m_config.language;
        const int64_t groups = lm.numHeads / lm.numKeyValueHeads;
        return (entry.split.part == 0 ? groups : 1) * lm.numKeyValueHeads * lm.headDim;
    }

    void checkRows(const Entry &entry, const torch::Tensor &stored, int64_t expected) const
    {
        if (stored.dim() < 1 || stored.size(0) != expected || expected == 0)
            throw Error("the fused tensor '" + entry.stored + "' has " +
                        std::to_string(stored.dim() ? stored.size(0) : 0) + " rows but config.json implies " +
                        std::to_string(expected) + ": the config and the weights belong to different models");
    }

    using Translation = std::vector<std::pair<std::string, RowSplit>>;

    static Translation whole(std::string canonical) { return {{std::move(canonical), RowSplit{}}}; }

    static Translation split(const std::string &prefix, const std::string &suffix, RowSplit::Kind kind,
                             const char *const names[3])
    {
        Translation result;
        for (int part = 0; part < 3; ++part)
            result.push_back({prefix + names[part] + suffix, RowSplit{kind, part}});
        return result;
    }

    Translation translate(const std::string &stored) const
    {
        std::string name = stored;
        if (consumePrefix(name, "language_model.model.") || consumePrefix(name, "model.language_model."))
            return translateLanguage("model." + name);
        if (name == "language_model.lm_head.weight" || name == "lm_head.weight")
            return whole("lm_head.weight");
        if (name == "language_model.output.weight")
            return whole("lm_head.weight");
        consumePrefix(name, "model.");
        if (name.rfind("vision_tower.", 0) == 0 || name.rfind("multi_modal_projector.", 0) == 0)
            return whole(name);
        if (consumePrefix(name, "vision_model."))
            return translateInternViT(name);
        if (consumePrefix(name, "mlp1."))
            return translateProjector(name);
        return {};
    }

    Translation translateLanguage(const std::string &name) const
    {
        if (m_config.languageFamily != "internlm2")
            return whole(name);
        static const char *const kQkv[3] = {"q_proj", "k_proj", "v_proj"};
        static const std::vector<std::pair<std::string, std::string>> kRenames = {
            {"attention.wo.", "self_attn.o_proj."},  {"feed_forward.w1.", "mlp.gate_proj."},
            {"feed_forward.w3.", "mlp.up_proj."},    {"feed_forward.w2.", "mlp.down_proj."},
            {"attention_norm.", "input_layernorm."}, {"ffn_norm.", "post_attention_layernorm."}};
        if (name == "model.tok_embeddings.weight")
            return whole("model.embed_tokens.weight");
        std::string rest = name;
        if (!consumePrefix(rest, "model.layers."))
            return whole(name);
        const size_t dot = rest.find('.');
        const std::string layer = "model.layers." + rest.substr(0, dot + 1);
        const std::string local = rest.substr(dot + 1);
        if (local == "attention.wqkv.weight")
            return split(layer + "self_attn.", ".weight", RowSplit::Kind::InternLM2, kQkv);
        for (const auto &[theirs, ours] : kRenames)
            if (local.rfind(theirs, 0) == 0)
                return whole(layer + ours + local.substr(theirs.size()));
        return whole(name);
    }

    static Translation translateInternViT(std::string name)
    {
        static const char *const kQkv[3] = {"q_proj", "k_proj", "v_proj"};
        const std::string tower = "vision_tower.";
        if (name == "embeddings.class_embedding")
            return whole(tower + "embeddings.cls_token");
        if (name == "embeddings.position_embedding")
            return whole(tower + "embeddings.position_embeddings");
        if (consumePrefix(name, "embeddings.patch_embedding."))
            return whole(tower + "embeddings.patch_embeddings.projection." + name);
        if (!consumePrefix(name, "encoder.layers."))
            return {};
        const size_t dot = name.find('.');
        const std::string layer = tower + "encoder.layer." + name.substr(0, dot + 1);
        std::string local = name.substr(dot + 1);
        if (local == "attn.qkv.weight" || local == "attn.qkv.bias")
            return split(layer + "attention.", local.substr(8), RowSplit::Kind::Thirds, kQkv);
        static const std::vector<std::pair<std::string, std::string>> kRenames = {
            {"attn.proj.", "attention.projection_layer."},
            {"attn.q_norm.", "attention.q_norm."},
            {"attn.k_norm.", "attention.k_norm."},
            {"mlp.", "mlp."},
            {"norm1.", "layernorm_before."},
            {"norm2.", "layernorm_after."}};
        if (local == "ls1")
            return whole(layer + "lambda_1");
        if (local == "ls2")
            return whole(layer + "lambda_2");
        for (const auto &[theirs, ours] : kRenames)
            if (local.rfind(theirs, 0) == 0)
                return whole(layer + ours + local.substr(theirs.size()));
        return {};
    }

    static Translation translateProjector(const std::string &name)
    {
        const std::string projector = "multi_modal_projector.";
        const size_t dot = name.find('.');
        const std::string index = name.substr(0, dot);
        const std::string field = name.substr(dot + 1);
        if (index == "0")
            return whole(projector + "layer_norm." + field);
        if (index == "1")
            return whole(projector + "linear_1." + field);
        if (index == "3")
            return whole(projector + "linear_2." + field);
        return {};
    }

    std::shared_ptr<WeightSource> m_checkpoint;
    InternVLConfig m_config;
    std::map<std::string, Entry> m_entries;
    std::vector<std::string> m_order;
};

} // namespace

VisionParameterCounts countVisionParameters(const WeightSource &weights)
{
    VisionParameterCounts counts;
    for (const std::string &name : weights.names()) {
        const bool tower = name.rfind("vision_tower.", 0) == 0;
        if (!tower && name.rfind("multi_modal_projector.", 0) != 0)
            continue;
        int64_t elements = 1;
        for (int64_t size : weights.shape(name))
            elements *= size;
        (tower ? counts.tower : counts.projector) += elements;
    }
    return counts;
}

std::shared_ptr<WeightSource> internVLWeights(std::shared_ptr<WeightSource> checkpoint,
                                              const InternVLConfig &config, InternVLParts parts)
{
    return std::make_shared<InternVLWeightSource>(std::move(checkpoint), config, parts);
}

std::string internVLSourceName(const WeightSource &view, const std::string &name)
{
    const auto *internVL = dynamic_cast<const InternVLWeightSource *>(&view);
    if (!internVL)
        throw Error("internal: '" + name + "' was asked of weights that are not an InternVL checkpoint's");
    return internVL->sourceName(name);
}

torch::Tensor fuseInternLM2Qkv(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v,
                               const ModelConfig &language)
{
    const int64_t kvHeads = language.numKeyValueHeads, groups = language.numHeads / kvHeads;
    const int64_t headDim = language.headDim, hidden = q.size(-1);
    return torch::cat({q.reshape({kvHeads, groups, headDim, hidden}),
                       k.reshape({kvHeads, 1, headDim, hidden}), v.reshape({kvHeads, 1, headDim, hidden})},
                      1)
        .reshape({-1, hidden});
}

std::string internVLStoredName(const WeightSource &view, const std::string &name)
{
    const auto *internVL = dynamic_cast<const InternVLWeightSource *>(&view);
    if (!internVL)
        throw Error("internal: '" + name + "' was asked of weights that are not an InternVL checkpoint's");
    return internVL->storedName(name);
}

} // namespace emloc::core
