#include "emloc/vision/internvl_adapter.h"

#include "emloc/api/error.h"

#include <set>

namespace emloc::core {

namespace {

constexpr const char *kLanguagePrefix = "model.layers.";

std::string checkpointPrefix(const InternVLConfig &config)
{
    if (config.layout == "hf")
        return "model.language_model.layers.";
    if (config.languageFamily == "internlm2")
        throw Error("an adapter for the original InternVL layout with an InternLM2 language model cannot be "
                    "written: its attention is one fused wqkv projection, which separate q/k/v LoRA "
                    "modules do not name; use the model's -hf conversion (InternVLForConditionalGeneration), "
                    "whose projections are apart");
    return "language_model.model.layers.";
}

} // namespace

void requireAdaptableInternVL(const InternVLConfig &config)
{
    checkpointPrefix(config);
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

} // namespace

PeftAdapter toInternVLAdapter(PeftAdapter adapter, const InternVLConfig &config)
{
    const std::string prefix = checkpointPrefix(config);
    for (const PeftLoraModule &module : adapter.modules)
        if (!startsWith(module.module, kLanguagePrefix))
            throw Error("the adapter's module '" + module.module +
                        "' is not a decoder layer's projection of the language model");
    renamePrefix(adapter, kLanguagePrefix, prefix);
    return adapter;
}

PeftAdapter toLanguageModelAdapter(PeftAdapter adapter)
{
    for (const char *prefix : {"model.language_model.layers.", "language_model.model.layers."})
        renamePrefix(adapter, prefix, kLanguagePrefix);
    for (const PeftLoraModule &module : adapter.modules)
        if (!startsWith(module.module, kLanguagePrefix))
            throw Error("the adapter's module '" + module.module +
                        "' is not in the InternVL model's language model; EMLoC Studio applies LoRA to the "
                        "language model only");
    return adapter;
}

void mergeInternVLAdapterFolder(VisionLanguageFiles &files, const std::string &folder)
{
    PeftAdapter adapter = readPeftAdapter(folder); // its errors name the folder already
    try {
        adapter = toLanguageModelAdapter(std::move(adapter));
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
        adapter = toLanguageModelAdapter(std::move(adapter));
    validatePeftAdapter(adapter, *model.files.weights, modelPath);
    return adapter;
}

} // namespace emloc::core
