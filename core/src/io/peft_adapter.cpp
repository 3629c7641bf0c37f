#include "emloc/io/peft_adapter.h"

#include "emloc/api/error.h"
#include "emloc/api/projections.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/staging_folder.h"
#include "emloc/model/low_rank_linear.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <sys/stat.h>
#include <tuple>

namespace emloc::core {

namespace {

std::string joinPath(const std::string &folder, const std::string &name)
{
    return !folder.empty() && folder.back() == '/' ? folder + name : folder + "/" + name;
}

bool fileExists(const std::string &path)
{
    struct stat info
    {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool matchesPattern(const std::string &module, const std::string &key)
{
    return module == key ||
           (module.size() > key.size() && module.compare(module.size() - key.size(), key.size(), key) == 0 &&
            module[module.size() - key.size() - 1] == '.');
}

std::string shapeText(const torch::Tensor &t)
{
    return c10::str(t.sizes());
}

// Splits a stored key into module and factor: "base_model.model.model.layers.0.self_attn.q_proj.lora_A
// .weight" -> {"model.layers.0.self_attn.q_proj", 'A'}; PEFT's in-memory adapter names (".default")
// are accepted too. Returns false for keys that are not LoRA factors.
bool parseKey(const std::string &key, std::string &module, char &factor)
{
    static const std::string kPrefix = "base_model.model.";
    std::string rest = key.rfind(kPrefix, 0) == 0 ? key.substr(kPrefix.size()) : key;
    for (const char *name : {".lora_A.", ".lora_B."}) {
        const size_t at = rest.find(name);
        if (at == std::string::npos)
            continue;
        const std::string tail = rest.substr(at + 8);
        if (tail != "weight" && !(tail.size() > 7 && tail.compare(tail.size() - 7, 7, ".weight") == 0))
            return false;
        module = rest.substr(0, at);
        factor = name[6];
        return true;
    }
    return false;
}

int64_t projectionRank(const std::string &module)
{
    const std::string local = peftModuleLocalName(module);
    const std::vector<std::string> &order = decoderProjections();
    auto it = std::find(order.begin(), order.end(), local);
    return it == order.end() ? static_cast<int64_t>(order.size()) : static_cast<int64_t>(it - order.begin());
}

void sortModules(std::vector<PeftLoraModule> &modules)
{
    std::sort(modules.begin(), modules.end(), [](const PeftLoraModule &x, const PeftLoraModule &y) {
        const auto kx = std::make_tuple(peftModuleLayer(x.module), projectionRank(x.module), x.module);
        const auto ky = std::make_tuple(peftModuleLayer(y.module), projectionRank(y.module), y.module);
        return kx < ky;
    });
}

PeftAdapterConfig parseConfig(const nlohmann::json &json, const std::string &path)
{
    auto fail = [&](const std::string &what) {
        throw Error(path + ": " + what + ". The folder does not hold a LoRA adapter this program can use.");
    };
    if (!json.is_object())
        fail("expected a JSON object");
    PeftAdapterConfig config;
    config.raw = json;
    const std::string type = json.value("peft_type", std::string("LORA"));
    if (type != "LORA")
        fail("peft_type is '" + type + "', only LORA adapters are supported");
    if (json.value("use_dora", false))
        fail("use_dora is true (DoRA adapters are not supported)");
    if (json.value("fan_in_fan_out", false))
        fail("fan_in_fan_out is true (GPT-2 style Conv1D layers are not supported)");
    if (json.contains("bias") && json["bias"].is_string() && json["bias"] != "none")
        fail("bias is '" + json["bias"].get<std::string>() + "' (trained biases are not supported)");
    if (json.contains("modules_to_save") && !json["modules_to_save"].is_null() &&
        !(json["modules_to_save"].is_array() && json["modules_to_save"].empty()))
        fail("modules_to_save is set (fully trained modules are not supported)");
    try {
        if (!json.contains("r") || !json["r"].is_number_integer() || json["r"].get<int64_t>() <= 0)
            fail("'r' must be a positive integer");
        config.r = json["r"].get<int64_t>();
        if (json.contains("lora_alpha")) {
            if (!json["lora_alpha"].is_number())
                fail("'lora_alpha' must be a number");
            config.loraAlpha = json["lora_alpha"].get<double>();
        } else {
            config.loraAlpha = static_cast<double>(config.r); // PEFT's default is 8; r keeps scale 1
        }
        config.useRslora = json.value("use_rslora", false);
        if (json.contains("target_modules")) {
            const auto &targets = json["target_modules"];
            if (targets.is_array())
                for (const auto &target : targets)
                    config.targetModules.push_back(target.get<std::string>());
            else if (targets.is_string())
                config.targetModules.push_back(targets.get<std::string>());
        }
        if (json.contains("base_model_name_or_path") && json["base_model_name_or_path"].is_string())
            config.baseModelNameOrPath = json["base_model_name_or_path"].get<std::string>();
        if (json.contains("rank_pattern") && json["rank_pattern"].is_object())
            for (const auto &[key, value] : json["rank_pattern"].items())
                config.rankPattern[key] = value.get<int64_t>();
        if (json.contains("alpha_pattern") && json["alpha_pattern"].is_object())
            for (const auto &[key, value] : json["alpha_pattern"].items())
                config.alphaPattern[key] = value.get<double>();
    } catch (const nlohmann::json::exception &e) {
        fail(std::string("a field has the wrong type (") + e.what() + ")");
    }
    return config;
}

} // namespace

int64_t peftModuleLayer(const std::string &module)
{
    static const std::string kLayers = "layers.";
    const size_t at = module.find(kLayers);
    if (at == std::string::npos)
        return -1;
    size_t end = at + kLayers.size();
    int64_t value = 0;
    bool digits = false;
    while (end < module.size() && std::isdigit(static_cast<unsigned char>(module[end]))) {
        value = value * 10 + (module[end] - '0');
        ++end;
        digits = true;
    }
    return digits ? value : -1;
}

std::string peftModuleLocalName(const std::string &module)
{
    const size_t dot = module.find_last_of('.');
    return dot == std::string::npos ? module : module.substr(dot + 1);
}

double PeftAdapter::scaleFor(const std::string &module) const
{
    int64_t rank = config.r;
    double alpha = config.loraAlpha;
    for (const auto &[key, value] : config.rankPattern)
        if (matchesPattern(module, key))
            rank = value;
    for (const auto &[key, value] : config.alphaPattern)
        if (matchesPattern(module, key))
            alpha = value;
    if (const PeftLoraModule *found = find(module))
        rank = found->a.size(0);
    return config.useRslora ? alpha / std::sqrt(static_cast<double>(rank))
                            : alpha / static_cast<double>(rank);
}

const PeftLoraModule *PeftAdapter::find(const std::string &module) const
{
    for (const auto &entry : modules)
        if (entry.module == module)
            return &entry;
    return nullptr;
}

PeftAdapter readPeftAdapter(const std::string &folder)
{
    struct stat info
    {};
    if (folder.empty() || ::stat(folder.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
        throw Error("The adapter folder '" + folder +
                    "' does not exist; give a folder holding adapter_config.json and "
                    "adapter_model.safetensors (a PEFT LoRA adapter).");
    const std::string configPath = joinPath(folder, "adapter_config.json");
    const std::string weightsPath = joinPath(folder, "adapter_model.safetensors");
    if (!fileExists(configPath))
        throw Error("The adapter folder '" + folder +
                    "' has no adapter_config.json: it is not a PEFT adapter.");
    if (!fileExists(weightsPath))
        throw Error("The adapter folder '" + folder + "' has no adapter_model.safetensors" +
                    (fileExists(joinPath(folder, "adapter_model.bin"))
                         ? std::string(" (only adapter_model.bin, a pickle file: re-save it with "
                                       "safe_serialization=True)")
                         : std::string()) +
                    ".");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(readTextFile(configPath));
    } catch (const nlohmann::json::exception &e) {
        throw Error(configPath + ": not valid JSON (" + e.what() + ").");
    }
    PeftAdapter adapter;
    adapter.config = parseConfig(json, configPath);

    SafetensorsFile file(weightsPath);
    std::map<std::string, PeftLoraModule> modules;
    for (const std::string &key : file.names()) {
        std::string module;
        char factor = 0;
        if (!parseKey(key, module, factor)) {
            if (key.find("lora_embedding") != std::string::npos ||
                key.find("lora_magnitude") != std::string::npos)
                throw Error(
                    weightsPath + ": tensor '" + key +
                    "' is not a LoRA factor of a linear layer (embedding LoRA and DoRA are not supported).");
            throw Error(weightsPath + ": unexpected tensor '" + key +
                        "'; a LoRA adapter holds only <module>.lora_A.weight and <module>.lora_B.weight.");
        }
        torch::Tensor tensor = file.tensor(key);
        if (tensor.dim() != 2 || !tensor.is_floating_point())
            throw Error(weightsPath + ": tensor '" + key + "' has shape " + shapeText(tensor) +
                        " and dtype " + std::string(c10::toString(tensor.scalar_type())) +
                        "; LoRA factors are 2-D floating-point matrices.");
        PeftLoraModule &entry = modules[module];
        entry.module = module;
        (factor == 'A' ? entry.a : entry.b) = tensor;
    }
    if (modules.empty())
        throw Error(weightsPath + " holds no LoRA tensors.");
    for (auto &[name, entry] : modules) {
        if (!entry.a.defined() || !entry.b.defined())
            throw Error(weightsPath + ": module '" + name + "' has lora_" + (entry.a.defined() ? "A" : "B") +
                        " but no lora_" + (entry.a.defined() ? "B" : "A") + "; the file is incomplete.");
        if (entry.a.size(0) != entry.b.size(1))
            throw Error(weightsPath + ": module '" + name + "' has lora_A " + shapeText(entry.a) +
                        " and lora_B " + shapeText(entry.b) + ": their ranks differ.");
        adapter.modules.push_back(std::move(entry));
    }
    sortModules(adapter.modules);
    return adapter;
}

namespace {

// The projection's weight is stored dense, or as an emulator's factors Wu [out, k] Wv [k, in]
// (low_rank_linear.h), which a merge keeps factored.
bool isFactored(const WeightSource &weights, const std::string &module)
{
    return !weights.contains(module + ".weight") && weights.contains(module + kLowRankUpSuffix) &&
           weights.contains(module + kLowRankDownSuffix);
}

// [out, in] of the projection, dense or factored; empty when the model has neither.
std::vector<int64_t> projectionShape(const WeightSource &weights, const std::string &module)
{
    if (weights.contains(module + ".weight"))
        return weights.shape(module + ".weight");
    if (!isFactored(weights, module))
        return {};
    const std::vector<int64_t> up = weights.shape(module + kLowRankUpSuffix);
    const std::vector<int64_t> down = weights.shape(module + kLowRankDownSuffix);
    if (up.size() != 2 || down.size() != 2)
        return {-1}; // reported as a mismatch below
    return {up[0], down[1]};
}

} // namespace

void validatePeftAdapter(const PeftAdapter &adapter, const WeightSource &weights,
                         const std::string &modelPath)
{
    for (const auto &entry : adapter.modules) {
        const std::string weightName = entry.module + ".weight";
        const std::vector<int64_t> shape = projectionShape(weights, entry.module);
        if (shape.empty())
            throw Error("The adapter adapts '" + entry.module + "', but the model '" + modelPath +
                        "' has no tensor '" + weightName +
                        "': the adapter was trained for another model (or another architecture).");
        if (shape.size() != 2 || entry.a.size(1) != shape[1] || entry.b.size(0) != shape[0])
            throw Error("The adapter does not fit the model '" + modelPath + "': module '" + entry.module +
                        "' has lora_A " + shapeText(entry.a) + " and lora_B " + shapeText(entry.b) +
                        " but the model's weight is " + c10::str(c10::IntArrayRef(shape)) +
                        " (lora_A must be [r, " + (shape.size() == 2 ? std::to_string(shape[1]) : "?") +
                        "], lora_B [" + (shape.empty() ? "?" : std::to_string(shape[0])) +
                        ", r]). The adapter was trained for another model.");
    }
}

void writePeftAdapter(const PeftAdapter &adapter, const std::string &folder, const PeftWriteOptions &options)
{
    if (adapter.modules.empty())
        throw Error("Refusing to write an adapter without modules to '" + folder + "'.");
    StagingFolder staging(folder, options.overwrite);

    // The rank: the most common one; modules with another rank go into rank_pattern, as PEFT writes.
    std::map<int64_t, int> rankCounts;
    std::set<std::string> targets;
    for (const auto &entry : adapter.modules) {
        ++rankCounts[entry.a.size(0)];
        targets.insert(peftModuleLocalName(entry.module));
    }
    const int64_t rank = std::max_element(rankCounts.begin(), rankCounts.end(), [](auto &x, auto &y) {
                             return x.second < y.second;
                         })->first;
    auto alphaFor = [&](const PeftLoraModule &entry) {
        const double r = static_cast<double>(entry.a.size(0));
        return adapter.scaleFor(entry.module) * (adapter.config.useRslora ? std::sqrt(r) : r);
    };
    double alpha = 0;
    for (const auto &entry : adapter.modules)
        if (entry.a.size(0) == rank) {
            alpha = alphaFor(entry);
            break;
        }
    // Modules whose rank or scale differ from the common ones keep theirs through PEFT's patterns.
    nlohmann::json rankPattern = nlohmann::json::object();
    nlohmann::json alphaPattern = nlohmann::json::object();
    for (const auto &entry : adapter.modules) {
        if (entry.a.size(0) != rank)
            rankPattern[entry.module] = entry.a.size(0);
        const double needed = alphaFor(entry);
        if (std::abs(needed - alpha) > 1e-12 * std::max(1.0, std::abs(alpha)))
            alphaPattern[entry.module] = needed;
    }

    nlohmann::json json = {
        {"peft_type", "LORA"},
        {"task_type", "CAUSAL_LM"},
        {"r", rank},
        {"lora_alpha", alpha},
        {"lora_dropout", adapter.config.raw.value("lora_dropout", 0.0)},
        {"use_rslora", adapter.config.useRslora},
        {"target_modules", options.targetModules.empty()
                               ? nlohmann::json(std::vector<std::string>(targets.begin(), targets.end()))
                               : nlohmann::json(options.targetModules)},
        {"base_model_name_or_path", adapter.config.baseModelNameOrPath},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"inference_mode", true},
        {"init_lora_weights", true},
        {"modules_to_save", nullptr},
        {"rank_pattern", rankPattern},
        {"alpha_pattern", alphaPattern},
        {"use_dora", false},
    };
    if (alpha == std::floor(alpha) && std::abs(alpha) < 1e15)
        json["lora_alpha"] = static_cast<int64_t>(alpha); // PEFT writes integers; keep files diffable

    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto &entry : adapter.modules) {
        const std::string key = "base_model.model." + entry.module;
        tensors.emplace_back(key + ".lora_A.weight", entry.a.to(torch::kCPU, options.dtype).contiguous());
        tensors.emplace_back(key + ".lora_B.weight", entry.b.to(torch::kCPU, options.dtype).contiguous());
    }
    writeSafetensors(staging.file("adapter_model.safetensors"), tensors, {{"format", "pt"}});
    writeFileAtomically(staging.file("adapter_config.json"), json.dump(2) + "\n");
    for (const auto &[name, content] : options.extraFiles)
        writeFileAtomically(staging.file(name), content);

    // Read back before publishing: what lands at `folder` is known to load and to hold these numbers.
    PeftAdapter check = readPeftAdapter(staging.path());
    if (check.modules.size() != adapter.modules.size())
        throw Error("Verification of the adapter written to '" + folder + "' failed: module count differs.");
    for (const auto &entry : adapter.modules) {
        const PeftLoraModule *read = check.find(entry.module);
        if (!read || !torch::equal(read->a, entry.a.to(torch::kCPU, options.dtype)) ||
            !torch::equal(read->b, entry.b.to(torch::kCPU, options.dtype)) ||
            std::abs(check.scaleFor(entry.module) - adapter.scaleFor(entry.module)) >
                1e-9 * std::abs(adapter.scaleFor(entry.module)))
            throw Error("Verification of the adapter written to '" + folder + "' failed at module '" +
                        entry.module + "'; the disk may be faulty or full.");
    }
    staging.commit();
}

namespace {

class MergedWeightSource : public WeightSource
{
public:
    MergedWeightSource(std::shared_ptr<WeightSource> base, PeftAdapter adapter, torch::ScalarType dtype)
        : m_base(std::move(base)), m_adapter(std::move(adapter)), m_dtype(dtype)
    {
        for (size_t i = 0; i < m_adapter.modules.size(); ++i) {
            const std::string &module = m_adapter.modules[i].module;
            if (isFactored(*m_base, module)) {
                m_byUp[module + kLowRankUpSuffix] = i;
                m_byDown[module + kLowRankDownSuffix] = i;
            } else {
                m_byWeight[module + ".weight"] = i;
            }
        }
    }
    std::vector<std::string> names() const override { return m_base->names(); }
    bool contains(const std::string &name) const override { return m_base->contains(name); }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        std::vector<int64_t> shape = m_base->shape(name);
        if (auto up = m_byUp.find(name); up != m_byUp.end())
            shape.at(1) += m_adapter.modules[up->second].a.size(0);
        if (auto down = m_byDown.find(name); down != m_byDown.end())
            shape.at(0) += m_adapter.modules[down->second].a.size(0);
        return shape;
    }
    torch::Tensor tensor(const std::string &name) const override
    {
        // On factors Wu Wv the merge stays low-rank and exact: Wu Wv + s B A = [Wu | s B] [Wv ; A], a
        // rank k + r projection the size of the factors, never the dense [out, in] matrix.
        if (auto up = m_byUp.find(name); up != m_byUp.end()) {
            const PeftLoraModule &entry = m_adapter.modules[up->second];
            torch::Tensor u = m_base->tensor(name);
            torch::Tensor scaledB = entry.b.to(torch::kFloat64) * m_adapter.scaleFor(entry.module);
            return torch::cat({u.to(outputDtype(u)), scaledB.to(outputDtype(u))}, 1);
        }
        if (auto down = m_byDown.find(name); down != m_byDown.end()) {
            const PeftLoraModule &entry = m_adapter.modules[down->second];
            torch::Tensor v = m_base->tensor(name);
            return torch::cat({v.to(outputDtype(v)), entry.a.to(outputDtype(v))}, 0);
        }
        auto it = m_byWeight.find(name);
        if (it == m_byWeight.end())
            return m_base->tensor(name);
        const PeftLoraModule &entry = m_adapter.modules[it->second];
        torch::Tensor w = m_base->tensor(name);
        if (w.dim() != 2 || w.size(0) != entry.b.size(0) || w.size(1) != entry.a.size(1))
            throw Error("Cannot merge the adapter into '" + name + "': the weight is " + c10::str(w.sizes()) +
                        " but B A is [" + std::to_string(entry.b.size(0)) + ", " +
                        std::to_string(entry.a.size(1)) + "]; the adapter is for another model.");
        return mergedDense(std::move(w), entry);
    }

private:
    // W + s B A, computed in float64 a block of rows at a time. The blocks stay below glibc's mmap
    // threshold and the result overwrites W when nobody else holds it (a fresh copy from the file), so a
    // merged model loads with no more memory than the plain one: whole-matrix float64 temporaries, freed,
    // raise glibc's mmap threshold and leave the heap fragmented for the rest of the run (measured +100 MiB
    // at the demo's evaluation peak).
    torch::Tensor mergedDense(torch::Tensor w, const PeftLoraModule &entry) const
    {
        const torch::ScalarType out = outputDtype(w);
        const bool owned =
            w.use_count() == 1 && w.storage().use_count() == 1 && w.is_contiguous() && w.scalar_type() == out;
        torch::Tensor merged = owned ? w : torch::empty(w.sizes(), w.options().dtype(out));
        const torch::Tensor b = entry.b.to(torch::kFloat64) * m_adapter.scaleFor(entry.module);
        const torch::Tensor a = entry.a.to(torch::kFloat64);
        constexpr int64_t kBlockElements = 8192; // 64 KiB in float64
        const int64_t rows = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, w.size(1)));
        for (int64_t row = 0; row < w.size(0); row += rows) {
            const int64_t count = std::min(rows, w.size(0) - row);
            // A copy even when W is float64 already: W may belong to someone else.
            torch::Tensor block = w.narrow(0, row, count).to(torch::kFloat64, false, /*copy=*/true);
            block.addmm_(b.narrow(0, row, count), a);
            merged.narrow(0, row, count).copy_(block);
        }
        return merged;
    }

    torch::ScalarType outputDtype(const torch::Tensor &base) const
    {
        return base.scalar_type() == torch::kFloat64 ? torch::kFloat64 : m_dtype;
    }

    std::shared_ptr<WeightSource> m_base;
    PeftAdapter m_adapter;
    torch::ScalarType m_dtype;
    std::map<std::string, size_t> m_byWeight; // dense projections: "<module>.weight" -> module index
    std::map<std::string, size_t> m_byUp;     // factored ones: "<module>.weight_u" -> module index
    std::map<std::string, size_t> m_byDown;   // and "<module>.weight_v"
};

} // namespace

std::shared_ptr<WeightSource> mergeAdapterWeights(std::shared_ptr<WeightSource> base, PeftAdapter adapter,
                                                  torch::ScalarType dtype)
{
    validatePeftAdapter(adapter, *base, "(merge)");
    return std::make_shared<MergedWeightSource>(std::move(base), std::move(adapter), dtype);
}

std::shared_ptr<WeightSource> mergeAdapterFolder(const ModelFiles &model, const std::string &folder)
{
    PeftAdapter adapter = readPeftAdapter(folder); // its errors name the folder already
    try {
        validatePeftAdapter(adapter, *model.weights, model.path);
    } catch (const Error &error) {
        throw Error("The adapter folder '" + folder + "' does not fit: " + error.what());
    }
    return mergeAdapterWeights(model.weights, std::move(adapter));
}

} // namespace emloc::core
