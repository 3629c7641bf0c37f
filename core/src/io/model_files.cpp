#include "emloc/io/model_files.h"

#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/safetensors_weights.h"
#include "emloc/io/sentencepiece_tokenizer.h"
#include "gguf_model.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <dirent.h>
#include <sys/stat.h>

namespace emloc::core {

namespace {
class SafetensorsWeightSource : public WeightSource
{
public:
    explicit SafetensorsWeightSource(const std::string &folder) : m_model(folder) {}
    std::vector<std::string> names() const override { return m_model.names(); }
    bool contains(const std::string &name) const override { return m_model.contains(name); }
    std::vector<int64_t> shape(const std::string &name) const override { return m_model.info(name).shape; }
    // Stored dtype (float32/float16/bfloat16): the model loader converts to its compute dtype.
    torch::Tensor tensor(const std::string &name) const override { return m_model.tensor(name); }
    std::string storedType(const std::string &name) const override { return m_model.info(name).dtype; }

private:
    SafetensorsModel m_model;
};

// Refuses a tensor holding NaN or Inf: every command that computes with the weights or copies them
// would otherwise turn a corrupt file into NaN losses, NaN emulators or NaN exports without a word.
// Checked in slices so that the check needs no second copy of a large tensor.
class FiniteWeightSource : public WeightSource
{
public:
    FiniteWeightSource(std::shared_ptr<WeightSource> inner, std::string path)
        : m_inner(std::move(inner)), m_path(std::move(path))
    {}
    std::vector<std::string> names() const override { return m_inner->names(); }
    bool contains(const std::string &name) const override { return m_inner->contains(name); }
    std::vector<int64_t> shape(const std::string &name) const override { return m_inner->shape(name); }
    std::string storedType(const std::string &name) const override { return m_inner->storedType(name); }
    torch::Tensor tensor(const std::string &name) const override
    {
        torch::Tensor values = m_inner->tensor(name);
        if (!values.is_floating_point() || values.numel() == 0)
            return values;
        constexpr int64_t kSlice = int64_t(1) << 24;
        const torch::Tensor flat = values.reshape({-1});
        for (int64_t start = 0; start < flat.numel(); start += kSlice) {
            const torch::Tensor slice = flat.slice(0, start, std::min(flat.numel(), start + kSlice));
            if (!torch::isfinite(slice).all().item<bool>())
                throw Error("the model '" + m_path + "' has NaN or infinite values in tensor '" + name +
                            "': the weights are corrupt; download or export the model again");
        }
        return values;
    }

private:
    std::shared_ptr<WeightSource> m_inner;
    std::string m_path;
};

std::string joinPath(const std::string &folder, const std::string &name)
{
    return !folder.empty() && folder.back() == '/' ? folder + name : folder + "/" + name;
}

bool endsWithGguf(const std::string &path)
{
    if (path.size() < 5)
        return false;
    std::string suffix = path.substr(path.size() - 5);
    for (char &c : suffix)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return suffix == ".gguf";
}

bool startsWithGgufMagic(const std::string &path)
{
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (!file)
        return false;
    char magic[4] = {};
    const size_t got = std::fread(magic, 1, sizeof magic, file);
    std::fclose(file);
    return got == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
}

std::vector<std::string> ggufFilesIn(const std::string &folder)
{
    std::vector<std::string> result;
    if (DIR *dir = ::opendir(folder.c_str())) {
        while (const dirent *entry = ::readdir(dir))
            if (endsWithGguf(entry->d_name))
                result.emplace_back(entry->d_name);
        ::closedir(dir);
    }
    return result;
}

// The model loader matches every tensor; this catches the common mismatches early and clearly (a
// config.json from another model, a checkpoint without the causal-LM head, a partial download).
void checkWeightsMatchConfig(const std::string &folder, const ModelConfig &config,
                             const WeightSource &weights)
{
    const std::string embedding = "model.embed_tokens.weight";
    if (!weights.contains(embedding))
        throw Error("the weights in '" + folder + "' have no tensor '" + embedding +
                    "': expected a Hugging Face causal language model (" + supportedModelTypes() +
                    ") saved with save_pretrained");
    const std::vector<int64_t> expected = {config.vocabSize, config.hiddenSize};
    if (weights.shape(embedding) != expected)
        throw Error("the tensor '" + embedding + "' in '" + folder + "' has shape " +
                    c10::str(c10::IntArrayRef(weights.shape(embedding))) + " but config.json implies [" +
                    std::to_string(config.vocabSize) + ", " + std::to_string(config.hiddenSize) +
                    "]: the config and the weights belong to different models");
    for (int64_t layer : {int64_t(0), config.numLayers - 1}) {
        const std::string name = "model.layers." + std::to_string(layer) + ".self_attn.q_proj.weight";
        // An emulator stores compressed projections as ".weight_u"/".weight_v" factors (low_rank_linear.h).
        if (!weights.contains(name) && !weights.contains(name + "_u"))
            throw Error("the weights in '" + folder + "' have no tensor '" + name +
                        "', but config.json says " + std::to_string(config.numLayers) +
                        " layers: the weights are incomplete or belong to "
                        "another model");
    }
    if (!config.tieWordEmbeddings && !weights.contains("lm_head.weight"))
        throw Error("the weights in '" + folder +
                    "' have no 'lm_head.weight' although config.json sets "
                    "tie_word_embeddings to false");
}

ModelFiles openModelFolder(const std::string &path)
{
    const std::string configPath = joinPath(path, "config.json");
    struct stat configStat
    {};
    if (::stat(configPath.c_str(), &configStat) != 0) {
        const std::vector<std::string> ggufs = ggufFilesIn(path);
        if (!ggufs.empty())
            throw Error("the folder '" + path + "' has no config.json but holds the GGUF file '" +
                        ggufs.front() + "': open that file instead");
        throw Error("the folder '" + path +
                    "' has no config.json: a model folder needs the Hugging Face files "
                    "config.json and model.safetensors (or sharded safetensors with their index)");
    }
    ModelFiles files;
    files.path = path;
    files.format = "hf";
    const nlohmann::json rawConfig = optionalFolderJson(path, "config.json");
    // A vision-language checkpoint holds a language model too, but running it as text would drop its
    // vision tower without a word (and an export would write half a model).
    if (isVisionLanguageConfig(rawConfig))
        throw Error("the folder '" + path +
                    "' holds a vision-language model (its config.json describes one); fine-tuning "
                    "and export take text models only so far (`emloc info`, `emloc generate --image` and "
                    "`emloc data inspect` take vision-language models)");
    files.config = parseModelConfig(rawConfig, configPath);
    auto weights = std::make_shared<SafetensorsWeightSource>(path);
    checkWeightsMatchConfig(path, files.config, *weights);
    files.weights = weights;
    files.tokenizerConfig = optionalFolderJson(path, "tokenizer_config.json");
    files.tokenizerJson = folderTokenizerJson(path, files.tokenizerConfig); // or from tokenizer.model
    files.generationConfig = optionalFolderJson(path, "generation_config.json");
    return files;
}
} // namespace

nlohmann::json optionalFolderJson(const std::string &folder, const char *fileName)
{
    const std::string path = joinPath(folder, fileName);
    struct stat fileStat
    {};
    if (::stat(path.c_str(), &fileStat) != 0)
        return nlohmann::json::object();
    try {
        nlohmann::json value = nlohmann::json::parse(readTextFile(path));
        if (!value.is_object())
            throw Error(path + ": expected a JSON object");
        return value;
    } catch (const nlohmann::json::exception &e) {
        throw Error(path + ": not valid JSON (" + e.what() + "); restore the file from the original model");
    }
}

std::shared_ptr<WeightSource> openSafetensorsWeights(const std::string &folder)
{
    return std::make_shared<FiniteWeightSource>(std::make_shared<SafetensorsWeightSource>(folder), folder);
}

ModelFiles openModel(const std::string &path)
{
    struct stat pathStat
    {};
    if (path.empty() || ::stat(path.c_str(), &pathStat) != 0)
        throw Error("the model path '" + path +
                    "' does not exist; give a Hugging Face model folder "
                    "(config.json + safetensors) or a .gguf file");
    if (S_ISDIR(pathStat.st_mode)) {
        ModelFiles files = openModelFolder(path);
        files.weights = std::make_shared<FiniteWeightSource>(files.weights, path);
        return files;
    }
    if (S_ISREG(pathStat.st_mode) && (endsWithGguf(path) || startsWithGgufMagic(path))) {
        ModelFiles files = openGgufModel(path);
        files.path = path;
        files.weights = std::make_shared<FiniteWeightSource>(files.weights, path);
        return files;
    }
    throw Error("the model path '" + path +
                "' is neither a .gguf file nor a folder; give a Hugging Face model "
                "folder (config.json + safetensors) or a .gguf file");
}

} // namespace emloc::core
