#include "emloc/vision/internvl_adapter.h"

#include "emloc/api/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

namespace emloc::core {

namespace {

constexpr const char *kLanguagePrefix = "model.layers.";

bool fusedInternLM2(const InternVLConfig &config)
{
    return config.layout != "hf" && config.languageFamily == "internlm2";
}

std::string checkpointPrefix(const InternVLConfig &config)
{
    return config.layout == "hf" ? "model.language_model.layers." : "language_model.model.layers.";
}

// InternLM2's own names of the projections the engine calls by Llama's (q, k and v are one fused wqkv).
const std::vector<std::pair<std::string, std::string>> &internLM2Locals()
{
    static const std::vector<std::pair<std::string, std::string>> kLocals = {
        {"self_attn.o_proj", "attention.wo"},
        {"mlp.gate_proj", "feed_forward.w1"},
        {"mlp.up_proj", "feed_forward.w3"},
        {"mlp.down_proj", "feed_forward.w2"}};
    return kLocals;
}

constexpr const char *kQkv[3] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"};
constexpr const char *kFusedQkv = "attention.wqkv";

} // namespace

bool stageAdaptersNamedForCheckpoint(const InternVLConfig &config)
{
    return !fusedInternLM2(config);
}

namespace {

bool startsWith(const std::string &text, const std::string &prefix)
{
    return text.rfind(prefix, 0) == 0;
}

// Regular-expression text matching `text` literally.
std::string escaped(const std::string &text)
{
    std::string out;
    for (char c : text) {
        if (std::string(".^$|()[]{}*+?\\").find(c) != std::string::npos)
            out += '\\';
        out += c;
    }
    return out;
}

template <typename Value>
void renameKeys(std::map<std::string, Value> &pattern, const std::string &from, const std::string &to)
{
    std::map<std::string, Value> out;
    for (const auto &[key, value] : pattern)
        out[startsWith(key, from) ? to + key.substr(from.size()) : key] = value;
    pattern = std::move(out);
}

// Modules and PEFT's per-module patterns whose names start with `from` get `to` instead.
void renamePrefix(PeftAdapter &adapter, const std::string &from, const std::string &to)
{
    for (PeftLoraModule &module : adapter.modules)
        if (startsWith(module.module, from))
            module.module = to + module.module.substr(from.size());
    renameKeys(adapter.config.rankPattern, from, to);
    renameKeys(adapter.config.alphaPattern, from, to);
}

// Every module's scale written out in alpha_pattern (and rank_pattern emptied), so a module whose rank
// or name changes keeps the scale PEFT applies to it.
void keepScales(PeftAdapter &adapter, const std::map<std::string, double> &scales)
{
    adapter.config.rankPattern.clear();
    adapter.config.alphaPattern.clear();
    for (const PeftLoraModule &module : adapter.modules) {
        const double rank = static_cast<double>(module.a.size(0));
        adapter.config.alphaPattern[module.module] =
            scales.at(module.module) * (adapter.config.useRslora ? std::sqrt(rank) : rank);
    }
}

std::map<std::string, double> scalesOf(const PeftAdapter &adapter)
{
    std::map<std::string, double> scales;
    for (const PeftLoraModule &module : adapter.modules)
        scales[module.module] = adapter.scaleFor(module.module);
    return scales;
}

// "model.layers.3.self_attn.q_proj" -> {"model.layers.3.", "self_attn.q_proj"}.
std::pair<std::string, std::string> splitLayer(const std::string &module)
{
    const size_t index = module.find('.', std::string(kLanguagePrefix).size());
    return {module.substr(0, index + 1), module.substr(index + 1)};
}

// [rows of wqkv] viewed per key/value head: its query heads, then its key head, then its value head.
struct FusedRows
{
    int64_t kvHeads, groups, headDim;
    explicit FusedRows(const ModelConfig &lm)
        : kvHeads(lm.numKeyValueHeads), groups(lm.numHeads / lm.numKeyValueHeads), headDim(lm.headDim)
    {}
    int64_t first(int part) const { return part == 0 ? 0 : part == 1 ? groups : groups + 1; }
    int64_t heads(int part) const { return part == 0 ? groups : 1; }
};

// The adapter's q, k and v LoRA of each layer as one LoRA on InternLM2's fused wqkv: A stacked, B placed
// in the rows of its projection (scaled to the first part's scale), so B A is exactly the three deltas
// in wqkv's row order. The other projections take InternLM2's names.
PeftAdapter fuseInternLM2Adapter(PeftAdapter adapter, const ModelConfig &lm)
{
    const std::map<std::string, double> scales = scalesOf(adapter);
    const FusedRows rows(lm);
    std::map<std::string, double> fusedScales;
    std::vector<PeftLoraModule> out;
    std::map<std::string, std::array<const PeftLoraModule *, 3>> parts; // layer -> q, k, v
    std::map<std::string, size_t> slot;                                 // layer -> its fused module in `out`
    for (const PeftLoraModule &module : adapter.modules) {
        // Not a structured binding: a C++17 lambda below cannot capture one.
        const auto split = splitLayer(module.module);
        const std::string &layer = split.first, &local = split.second;
        const auto qkv = std::find(std::begin(kQkv), std::end(kQkv), local);
        if (qkv != std::end(kQkv)) {
            if (!slot.count(layer)) {
                slot[layer] = out.size();
                out.push_back({layer + kFusedQkv, {}, {}});
                parts[layer] = {nullptr, nullptr, nullptr};
            }
            parts[layer][qkv - std::begin(kQkv)] = &module;
            continue;
        }
        const auto renamed = std::find_if(internLM2Locals().begin(), internLM2Locals().end(),
                                          [&](const auto &names) { return names.first == local; });
        if (renamed == internLM2Locals().end())
            throw Error("the adapter's module '" + module.module + "' has no counterpart in InternLM2");
        out.push_back({layer + renamed->second, module.a, module.b});
        fusedScales[out.back().module] = scales.at(module.module);
    }
    for (const auto &[layer, present] : parts) {
        PeftLoraModule &fused = out[slot.at(layer)];
        double scale = 0;
        std::vector<torch::Tensor> as;
        for (const PeftLoraModule *part : present)
            if (part) {
                scale = scale == 0 ? scales.at(part->module) : scale;
                as.push_back(part->a.to(torch::kFloat32));
            }
        fused.a = torch::cat(as, 0);
        const int64_t rank = fused.a.size(0);
        torch::Tensor b = torch::zeros({rows.kvHeads, rows.groups + 2, rows.headDim, rank}, torch::kFloat32);
        int64_t column = 0;
        for (int p = 0; p < 3; ++p) {
            if (!present[p])
                continue;
            const torch::Tensor partB =
                present[p]->b.to(torch::kFloat32) * (scales.at(present[p]->module) / scale);
            const int64_t r = partB.size(1);
            b.narrow(1, rows.first(p), rows.heads(p))
                .narrow(3, column, r)
                .copy_(partB.reshape({rows.kvHeads, rows.heads(p), rows.headDim, r}));
            column += r;
        }
        fused.b = b.reshape({-1, rank});
        fusedScales[fused.module] = scale;
    }
    adapter.modules = std::move(out);
    keepScales(adapter, fusedScales);
    return adapter;
}

// The inverse: a LoRA on wqkv as LoRA on q, k and v, each B A exactly its rows of the fused delta (A shared,
// the columns of B that are zero for a projection dropped with their rows of A, so a fused adapter of ours
// comes back at its own ranks). InternLM2's other names become Llama's.
PeftAdapter splitInternLM2Adapter(PeftAdapter adapter, const ModelConfig &lm)
{
    const std::map<std::string, double> scales = scalesOf(adapter);
    const FusedRows rows(lm);
    std::map<std::string, double> splitScales;
    std::vector<PeftLoraModule> out;
    for (const PeftLoraModule &module : adapter.modules) {
        // Not a structured binding: a C++17 lambda below cannot capture one.
        const auto split = splitLayer(module.module);
        const std::string &layer = split.first, &local = split.second;
        const double scale = scales.at(module.module);
        if (local == kFusedQkv) {
            const int64_t rank = module.a.size(0);
            const torch::Tensor b = module.b.reshape({rows.kvHeads, rows.groups + 2, rows.headDim, rank});
            for (int p = 0; p < 3; ++p) {
                torch::Tensor partB = b.narrow(1, rows.first(p), rows.heads(p)).reshape({-1, rank});
                const torch::Tensor used = partB.ne(0).any(0).nonzero().flatten();
                if (used.numel() == 0)
                    continue;
                out.push_back({layer + kQkv[p], module.a.index_select(0, used), partB.index_select(1, used)});
                splitScales[out.back().module] = scale;
            }
            continue;
        }
        const auto renamed = std::find_if(internLM2Locals().begin(), internLM2Locals().end(),
                                          [&](const auto &names) { return names.second == local; });
        out.push_back({renamed == internLM2Locals().end() ? module.module : layer + renamed->first, module.a,
                       module.b});
        splitScales[out.back().module] = scale;
    }
    adapter.modules = std::move(out);
    keepScales(adapter, splitScales);
    return adapter;
}

} // namespace

PeftAdapter toInternVLAdapter(PeftAdapter adapter, const InternVLConfig &config)
{
    const std::string prefix = checkpointPrefix(config);
    for (const PeftLoraModule &module : adapter.modules)
        if (!startsWith(module.module, kLanguagePrefix))
            throw Error("the adapter's module '" + module.module +
                        "' is not a decoder layer's projection of the language model");
    if (fusedInternLM2(config))
        adapter = fuseInternLM2Adapter(std::move(adapter), config.language);
    renamePrefix(adapter, kLanguagePrefix, prefix);
    return adapter;
}

PeftAdapter toLanguageModelAdapter(PeftAdapter adapter, const InternVLConfig &config)
{
    for (const char *prefix : {"model.language_model.layers.", "language_model.model.layers."})
        renamePrefix(adapter, prefix, kLanguagePrefix);
    for (const PeftLoraModule &module : adapter.modules)
        if (!startsWith(module.module, kLanguagePrefix))
            throw Error("the adapter's module '" + module.module +
                        "' is not in the InternVL model's language model; EMLoC Studio applies LoRA to the "
                        "language model only");
    if (fusedInternLM2(config))
        adapter = splitInternLM2Adapter(std::move(adapter), config.language);
    return adapter;
}

void mergeInternVLAdapterFolder(VisionLanguageFiles &files, const std::string &folder)
{
    PeftAdapter adapter = readPeftAdapter(folder); // its errors name the folder already
    try {
        adapter = toLanguageModelAdapter(std::move(adapter), files.config);
        validatePeftAdapter(adapter, *files.language.weights, files.path);
    } catch (const Error &error) {
        throw Error("The adapter folder '" + folder + "' does not fit: " + error.what());
    }
    files.language.weights = mergeAdapterWeights(files.language.weights, std::move(adapter));
}

std::string internVLTargetModules(const PeftAdapter &renamed)
{
    // prefix, then the layer index, then the projection's path inside the layer.
    std::set<std::string> prefixes, locals;
    for (const PeftLoraModule &module : renamed.modules) {
        const size_t layers = module.module.find(".layers.");
        const size_t afterIndex = module.module.find('.', layers + 8);
        prefixes.insert(module.module.substr(0, layers + 8));
        locals.insert(module.module.substr(afterIndex + 1));
    }
    auto alternatives = [](const std::set<std::string> &items) {
        std::string out;
        for (const std::string &item : items)
            out += (out.empty() ? "" : "|") + escaped(item);
        return "(" + out + ")";
    };
    return alternatives(prefixes) + "\\d+\\." + alternatives(locals);
}

PeftAdapter readStageAdapter(const std::string &folder, const StageModel &model, const std::string &modelPath)
{
    PeftAdapter adapter = readPeftAdapter(folder);
    if (model.vision)
        adapter = toLanguageModelAdapter(std::move(adapter), model.vision->config);
    validatePeftAdapter(adapter, *model.files.weights, modelPath);
    return adapter;
}

} // namespace emloc::core
