#include "emloc/io/gguf_lora.h"

#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/gguf_names.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace emloc::core {

namespace {

std::string architectureOf(const ModelConfig &config)
{
    if (config.modelType == "llama" || config.modelType == "mistral")
        return "llama";
    if (config.modelType == "qwen2" || config.modelType == "qwen3")
        return config.modelType;
    throw Error("Cannot write a GGUF LoRA adapter for a '" + config.modelType +
                "' model; supported: " + supportedModelTypes());
}

std::map<std::string, std::string> hfToGguf(const ModelConfig &config)
{
    std::map<std::string, std::string> names;
    for (const auto &[hf, gguf] : ggufTensorNames(config))
        names[hf] = gguf;
    return names;
}

} // namespace

void writeGgufLora(const PeftAdapter &adapter, const ModelConfig &config, const std::string &path,
                   GgmlType type, Feedback *feedback)
{
    if (!ggmlTypeWritable(type))
        throw Error("Cannot write a GGUF LoRA adapter as " + ggmlTypeName(type) + "; use F32 or F16.");
    if (adapter.modules.empty())
        throw Error("Refusing to write a GGUF LoRA adapter without modules to '" + path + "'.");
    const std::string arch = architectureOf(config);
    const auto names = hfToGguf(config);

    // llama.cpp applies alpha / rank with one alpha for the file: alpha = the most common rank, and each
    // module's own scale folded into B.
    std::map<int64_t, int> rankCounts;
    for (const auto &entry : adapter.modules)
        ++rankCounts[entry.a.size(0)];
    const int64_t alphaRank = std::max_element(rankCounts.begin(), rankCounts.end(), [](auto &x, auto &y) {
                                  return x.second < y.second;
                              })->first;
    const double alpha = static_cast<double>(alphaRank);

    GgufWriter writer(32);
    writer.set("general.architecture", GgufValue::string(arch));
    writer.set("general.type", GgufValue::string("adapter"));
    writer.set("general.name", GgufValue::string("EMLoC LoRA"));
    writer.set("adapter.type", GgufValue::string("lora"));
    writer.set("adapter.lora.alpha", GgufValue::float32(static_cast<float>(alpha)));

    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> expected; // gguf base name -> (a, b)
    for (const auto &entry : adapter.modules) {
        const std::string hfName = entry.module + ".weight";
        auto it = names.find(hfName);
        if (it == names.end())
            throw Error("The adapter module '" + entry.module +
                        "' has no llama.cpp counterpart; only decoder projections can be exported to GGUF.");
        const double r = static_cast<double>(entry.a.size(0));
        const double fold = adapter.scaleFor(entry.module) * r / alpha;
        torch::Tensor a = entry.a.to(torch::kFloat32).contiguous();
        torch::Tensor b = (entry.b.to(torch::kFloat64) * fold).to(torch::kFloat32);
        const int64_t heads = qkPermutationHeads(config, hfName);
        if (heads > 0)
            b = permuteQk(b, heads);
        b = b.contiguous();
        writer.addTensor(it->second + ".lora_a", a, type);
        writer.addTensor(it->second + ".lora_b", b, type);
        expected[it->second] = {a, b};
    }
    writer.write(path, feedback);

    // Read back: the names, shapes and values llama.cpp will see.
    GgufFile file(path);
    if (file.string("general.type") != "adapter" || file.string("adapter.type") != "lora" ||
        std::abs(file.number("adapter.lora.alpha") - alpha) > 1e-6 * alpha)
        throw Error("Verification of the GGUF LoRA adapter '" + path +
                    "' failed: its metadata did not read back.");
    const double tolerance = type == GgmlType::F32 ? 0.0 : type == GgmlType::F16 ? 1e-3 : 1e-2;
    for (const auto &[base, tensors] : expected) {
        for (int side = 0; side < 2; ++side) {
            const std::string name = base + (side == 0 ? ".lora_a" : ".lora_b");
            const torch::Tensor &want = side == 0 ? tensors.first : tensors.second;
            if (!file.hasTensor(name))
                throw Error("Verification of '" + path + "' failed: tensor '" + name + "' is missing.");
            torch::Tensor got = file.tensor(name);
            const double scale = std::max(1e-30, want.abs().max().item<double>());
            if (!got.sizes().equals(want.sizes()) ||
                (got - want).abs().max().item<double>() > tolerance * scale)
                throw Error("Verification of '" + path + "' failed: tensor '" + name +
                            "' did not read back as written; the disk may be faulty or full.");
        }
    }
}

PeftAdapter readGgufLora(const std::string &path, const ModelConfig &config)
{
    GgufFile file(path);
    if (file.stringOr("general.type", "") != "adapter" || file.stringOr("adapter.type", "") != "lora")
        throw Error("'" + path +
                    "' is not a GGUF LoRA adapter (general.type = adapter, adapter.type = lora).");
    const std::string arch = architectureOf(config);
    if (file.stringOr("general.architecture", "") != arch)
        throw Error("'" + path + "' is a LoRA adapter for architecture '" +
                    file.stringOr("general.architecture", "?") + "', not '" + arch + "'.");
    PeftAdapter adapter;
    std::map<int64_t, int> rankCounts;
    for (const auto &[hfName, ggufName] : ggufTensorNames(config)) {
        const std::string aName = ggufName + ".lora_a", bName = ggufName + ".lora_b";
        if (!file.hasTensor(aName) && !file.hasTensor(bName))
            continue;
        if (!file.hasTensor(aName) || !file.hasTensor(bName))
            throw Error("'" + path + "' has only one of '" + aName + "' and '" + bName + "'.");
        torch::Tensor a = file.tensor(aName);
        torch::Tensor b = file.tensor(bName);
        const int64_t heads = qkPermutationHeads(config, hfName);
        if (heads > 0)
            b = unpermuteQk(b, heads);
        adapter.modules.push_back({hfName.substr(0, hfName.size() - 7), a, b});
        ++rankCounts[a.size(0)];
    }
    if (adapter.modules.empty())
        throw Error("'" + path + "' holds no LoRA tensors for a model of this architecture.");
    const double alpha = file.number("adapter.lora.alpha");
    adapter.config.r = std::max_element(rankCounts.begin(), rankCounts.end(), [](auto &x, auto &y) {
                           return x.second < y.second;
                       })->first;
    adapter.config.loraAlpha = alpha;
    // llama.cpp scales every tensor by alpha / its own rank, which is PEFT's rule with alpha_pattern empty.
    return adapter;
}

} // namespace emloc::core
