#include "emloc/io/gguf_names.h"

#include "emloc/api/error.h"

namespace emloc::core {

std::vector<std::pair<std::string, std::string>> ggufTensorNames(const ModelConfig &config)
{
    std::vector<std::pair<std::string, std::string>> names = {
        {"model.embed_tokens.weight", "token_embd.weight"}};
    const std::pair<const char *, const char *> perLayer[] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"},
        {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    for (int64_t layer = 0; layer < config.numLayers; ++layer) {
        const std::string hf = "model.layers." + std::to_string(layer) + ".";
        const std::string gguf = "blk." + std::to_string(layer) + ".";
        for (const auto &[hfSuffix, ggufSuffix] : perLayer)
            names.emplace_back(hf + hfSuffix, gguf + ggufSuffix);
    }
    names.emplace_back("model.norm.weight", "output_norm.weight");
    names.emplace_back("lm_head.weight", "output.weight");
    return names;
}

int64_t qkPermutationHeads(const ModelConfig &config, const std::string &hfName)
{
    // llama.cpp's Qwen models use the NEOX rotary layout, which is Hugging Face's: no permutation.
    if (config.modelType != "llama" && config.modelType != "mistral")
        return 0;
    auto endsWith = [&](const std::string &suffix) {
        return hfName.size() >= suffix.size() &&
               hfName.compare(hfName.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (endsWith("self_attn.q_proj.weight") || endsWith("self_attn.q_proj.bias"))
        return config.numHeads;
    if (endsWith("self_attn.k_proj.weight") || endsWith("self_attn.k_proj.bias"))
        return config.numKeyValueHeads;
    return 0;
}

namespace {
torch::Tensor reorderRows(const torch::Tensor &weight, int64_t heads, bool toGguf)
{
    const int64_t rows = weight.size(0);
    if (heads <= 0 || rows % (2 * heads) != 0)
        throw Error("Cannot reorder the q/k rows of a tensor with " + std::to_string(rows) + " rows for " +
                    std::to_string(heads) + " heads: the head count does not divide them");
    std::vector<int64_t> shape = {heads, 2, rows / heads / 2};
    if (!toGguf)
        std::swap(shape[1], shape[2]);
    for (int64_t d = 1; d < weight.dim(); ++d)
        shape.push_back(weight.size(d));
    return weight.reshape(shape).transpose(1, 2).reshape(weight.sizes()).contiguous();
}
} // namespace

torch::Tensor permuteQk(const torch::Tensor &weight, int64_t heads)
{
    return reorderRows(weight, heads, true);
}

torch::Tensor unpermuteQk(const torch::Tensor &weight, int64_t heads)
{
    return reorderRows(weight, heads, false);
}

} // namespace emloc::core
