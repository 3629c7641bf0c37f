#include "emloc/model/lora_adapter.h"
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include <cmath>
#include <filesystem>
#include <set>

namespace emloc::core {

namespace {
const std::string kKeyPrefix = "base_model.model.";
const std::string kASuffix = ".lora_A.weight";
const std::string kBSuffix = ".lora_B.weight";

bool endsWith(const std::string &text, const std::string &suffix)
{
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shapeText(const torch::Tensor &tensor)
{
    std::string text = "[";
    for (int64_t i = 0; i < tensor.dim(); ++i)
        text += (i ? ", " : "") + std::to_string(tensor.size(i));
    return text + "]";
}

// PEFT matches target_modules by suffix: the local projection name is what a reader expects.
std::vector<std::string> localTargets(const LoraAdapter &adapter)
{
    std::set<std::string> names;
    for (const auto &module : adapter.modules)
        names.insert(module.first.substr(module.first.rfind('.') + 1));
    return {names.begin(), names.end()};
}
} // namespace

std::vector<int64_t> LoraAdapter::layers() const
{
    std::set<int64_t> indices;
    for (const auto &module : modules)
        indices.insert(layerIndexOf(module.first));
    return {indices.begin(), indices.end()};
}

LoraAdapter extractAdapter(const LoraAttachment &attachment, const std::string &baseModel)
{
    LoraAdapter adapter;
    adapter.config = attachment.config;
    adapter.baseModel = baseModel;
    torch::NoGradGuard noGrad;
    for (const auto &[name, module] : attachment.modules)
        adapter.modules[name] = {module->a().detach().to(torch::kCPU, torch::kFloat32).clone(),
                                 module->b().detach().to(torch::kCPU, torch::kFloat32).clone()};
    return adapter;
}

void loadAdapterInto(const LoraAdapter &adapter, const LoraAttachment &attachment)
{
    std::set<std::string> seen;
    torch::NoGradGuard noGrad;
    for (const auto &[name, module] : attachment.modules) {
        auto found = adapter.modules.find(name);
        if (found == adapter.modules.end())
            throw Error("the adapter has no weights for " + name +
                        "; it was trained for other layers or targets");
        const auto &[a, b] = found->second;
        if (!a.sizes().equals(module->a().sizes()) || !b.sizes().equals(module->b().sizes()))
            throw Error("the adapter's " + name + " has A " + shapeText(a) + " and B " + shapeText(b) +
                        ", the model expects A " + shapeText(module->a()) + " and B " +
                        shapeText(module->b()) + " (another rank or another base model)");
        module->a().copy_(a);
        module->b().copy_(b);
        seen.insert(name);
    }
    for (const auto &module : adapter.modules)
        if (!seen.count(module.first))
            throw Error(
                "the adapter has weights for " + module.first +
                ", which carries no LoRA in the model; attach LoRA with the adapter's targets and layers");
}

LoraAdapter renumberLayers(const LoraAdapter &adapter, const std::map<int64_t, int64_t> &layerMap)
{
    LoraAdapter result;
    result.config = adapter.config;
    result.baseModel = adapter.baseModel;
    const std::string prefix = "model.layers.";
    for (const auto &[name, factors] : adapter.modules) {
        const int64_t layer = layerIndexOf(name);
        auto mapped = layerMap.find(layer);
        if (layer < 0 || mapped == layerMap.end())
            throw Error("no layer mapping for " + name);
        const size_t dot = name.find('.', prefix.size());
        result.modules[prefix + std::to_string(mapped->second) + name.substr(dot)] = factors;
    }
    return result;
}

void saveAdapter(const LoraAdapter &adapter, const std::string &folder)
{
    if (adapter.modules.empty())
        throw Error("the adapter to write to " + folder + " holds no modules");
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error)
        throw Error("cannot create the adapter folder " + folder + ": " + error.message());

    nlohmann::json config = {
        {"peft_type", "LORA"},
        {"task_type", "CAUSAL_LM"},
        {"r", adapter.config.rank},
        {"lora_alpha", adapter.config.alpha},
        {"lora_dropout", adapter.config.dropout},
        {"target_modules", localTargets(adapter)},
        {"base_model_name_or_path", adapter.baseModel},
        {"use_rslora", adapter.config.rsLora},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"inference_mode", true},
        {"init_lora_weights", true},
        {"modules_to_save", nullptr},
        {"layers_to_transform", nullptr},
        {"layers_pattern", nullptr},
        {"use_dora", false},
        {"revision", nullptr},
    };
    // Only some layers carry LoRA (a layer-drop emulator's adapter): say which, or PEFT would add fresh
    // modules to every other layer.
    const auto layers = adapter.layers();
    std::set<std::string> perLayerTargets;
    size_t perLayer = 0;
    for (const auto &module : adapter.modules)
        perLayer += layerIndexOf(module.first) == layers.front() ? 1 : 0;
    if (layers.front() >= 0 && perLayer * layers.size() == adapter.modules.size() &&
        perLayer == localTargets(adapter).size()) {
        config["layers_to_transform"] = layers;
    }

    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto &[name, factors] : adapter.modules) {
        tensors.emplace_back(kKeyPrefix + name + kASuffix, factors.first.to(torch::kFloat32).contiguous());
        tensors.emplace_back(kKeyPrefix + name + kBSuffix, factors.second.to(torch::kFloat32).contiguous());
    }
    writeSafetensors(folder + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
    writeFileAtomically(folder + "/adapter_config.json", config.dump(2) + "\n");
}

LoraAdapter loadAdapter(const std::string &folder)
{
    const std::string configPath = folder + "/adapter_config.json";
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(readTextFile(configPath));
    } catch (const nlohmann::json::exception &e) {
        throw Error(configPath + " is not valid JSON: " + e.what());
    }
    auto field = [&](const char *name) -> const nlohmann::json & {
        if (!config.contains(name) || config[name].is_null())
            throw Error(configPath + " has no \"" + name + "\"; it is not a PEFT LoRA adapter config");
        return config[name];
    };
    if (field("peft_type").get<std::string>() != "LORA")
        throw Error(configPath + " is a " + config["peft_type"].get<std::string>() +
                    " adapter; only LoRA adapters are supported");
    if (config.value("bias", std::string("none")) != "none")
        throw Error(configPath + " trains biases (bias = \"" + config["bias"].get<std::string>() +
                    "\"); only bias = \"none\" adapters are supported");
    if (config.contains("modules_to_save") && !config["modules_to_save"].is_null() &&
        !config["modules_to_save"].empty())
        throw Error(configPath +
                    " saves whole modules (modules_to_save); only plain LoRA adapters are supported");
    if (config.value("fan_in_fan_out", false))
        throw Error(configPath +
                    " uses fan_in_fan_out (GPT-2 style Conv1D); the supported models use Linear");
    if (config.value("use_dora", false))
        throw Error(configPath + " is a DoRA adapter; only plain LoRA is supported");

    LoraAdapter adapter;
    try {
        adapter.config.rank = field("r").get<int64_t>();
        adapter.config.alpha = field("lora_alpha").get<double>();
        adapter.config.dropout = config.value("lora_dropout", 0.0);
        adapter.config.rsLora = config.value("use_rslora", false);
        const auto &targets = field("target_modules");
        adapter.config.targets = targets.is_string() ? std::vector<std::string>{targets.get<std::string>()}
                                                     : targets.get<std::vector<std::string>>();
        adapter.baseModel = config.value("base_model_name_or_path", std::string());
    } catch (const nlohmann::json::exception &e) {
        throw Error(configPath + " has a field of the wrong type: " + e.what());
    }

    std::string weightsPath = folder + "/adapter_model.safetensors";
    SafetensorsFile file(weightsPath);
    for (const auto &key : file.names()) {
        if (key.rfind(kKeyPrefix, 0) != 0 || !(endsWith(key, kASuffix) || endsWith(key, kBSuffix)))
            throw Error(weightsPath + " holds \"" + key + "\", which is not a LoRA A/B weight (expected " +
                        kKeyPrefix + "<module>" + kASuffix + ")");
        const bool isA = endsWith(key, kASuffix);
        const std::string module =
            key.substr(kKeyPrefix.size(), key.size() - kKeyPrefix.size() - kASuffix.size());
        auto tensor = file.tensor(key).to(torch::kFloat32);
        if (tensor.dim() != 2)
            throw Error(weightsPath + ": " + key + " must be 2-D, is " + shapeText(tensor));
        auto &factors = adapter.modules[module];
        (isA ? factors.first : factors.second) = tensor;
    }
    for (const auto &[module, factors] : adapter.modules) {
        if (!factors.first.defined() || !factors.second.defined())
            throw Error(weightsPath + " has only one of lora_A / lora_B for " + module);
        if (factors.first.size(0) != adapter.config.rank || factors.second.size(1) != adapter.config.rank)
            throw Error(weightsPath + ": " + module + " has A " + shapeText(factors.first) + " and B " +
                        shapeText(factors.second) + ", not rank r = " + std::to_string(adapter.config.rank) +
                        " as adapter_config.json says");
    }
    if (adapter.modules.empty())
        throw Error(weightsPath + " holds no LoRA weights");
    return adapter;
}

} // namespace emloc::core
