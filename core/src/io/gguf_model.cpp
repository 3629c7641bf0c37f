// A llama.cpp GGUF model seen as a Hugging Face model: config from the metadata, weights under
// Hugging Face names (dequantised lazily, llama's q/k rows un-permuted), tokenizer files rebuilt.
#include "gguf_model.h"

#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_names.h"
#include "gguf_tokenizer.h"

namespace emloc::core {

namespace {

class GgufWeightSource : public WeightSource
{
public:
    GgufWeightSource(std::shared_ptr<GgufFile> file, const ModelConfig &config) : m_file(std::move(file))
    {
        for (const auto &[hfName, ggufName] : ggufTensorNames(config)) {
            if (m_file->hasTensor(ggufName))
                m_entries[hfName] = {ggufName, qkPermutationHeads(config, hfName)};
        }
    }

    std::vector<std::string> names() const override
    {
        std::vector<std::string> out;
        for (const auto &entry : m_entries)
            out.push_back(entry.first);
        return out;
    }
    bool contains(const std::string &name) const override { return m_entries.count(name) != 0; }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        return m_file->tensorInfo(entry(name).ggufName).shape();
    }
    std::string storedType(const std::string &name) const override
    {
        return ggmlTypeName(m_file->tensorInfo(entry(name).ggufName).type);
    }
    torch::Tensor tensor(const std::string &name) const override
    {
        const Entry &e = entry(name);
        torch::Tensor values = m_file->tensor(e.ggufName);
        return e.permuteHeads > 0 ? unpermuteQk(values, e.permuteHeads) : values;
    }

private:
    struct Entry
    {
        std::string ggufName;
        int64_t permuteHeads = 0;
    };
    const Entry &entry(const std::string &name) const
    {
        auto it = m_entries.find(name);
        if (it == m_entries.end())
            throw Error("GGUF file '" + m_file->path() + "' has no tensor for '" + name + "'");
        return it->second;
    }
    std::shared_ptr<GgufFile> m_file;
    std::map<std::string, Entry> m_entries;
};

// Llama 3.x files carry their RoPE scaling only as rope_freqs.weight. Those published use Meta's
// low/high frequency factors 1 and 4 around 8192 positions; the factor is the largest entry. The
// guess is accepted only if it reproduces the stored factors.
void recogniseLlama3Scaling(const GgufFile &file, ModelConfig &config)
{
    torch::Tensor stored = file.tensor("rope_freqs.weight").to(torch::kFloat64);
    config.ropeScaling.type = "llama3";
    config.ropeScaling.factor = stored.max().item<double>();
    config.ropeScaling.lowFreqFactor = 1.0;
    config.ropeScaling.highFreqFactor = 4.0;
    config.ropeScaling.originalMaxPositionEmbeddings = 8192;
    torch::Tensor expected = llama3RopeFactors(config).to(torch::kFloat64);
    if (expected.sizes() != stored.sizes() || !torch::allclose(expected, stored, 1e-5, 1e-6))
        throw Error("GGUF file '" + file.path() +
                    "' scales RoPE with rope_freqs.weight values that do not match "
                    "Llama 3's scheme; this file's RoPE scaling is not supported.");
}

ModelConfig configFromMetadata(const GgufFile &file)
{
    const std::string where = "GGUF file '" + file.path() + "'";
    const std::string arch = file.string("general.architecture");
    if (arch != "llama" && arch != "qwen2" && arch != "qwen3")
        throw Error(where + " holds a '" + arch +
                    "' model; supported GGUF architectures: llama (also Mistral and "
                    "SmolLM files), qwen2, qwen3.");
    auto key = [&](const std::string &suffix) { return arch + "." + suffix; };
    ModelConfig config;
    config.modelType = arch;
    config.hiddenSize = file.integer(key("embedding_length"));
    config.intermediateSize = file.integer(key("feed_forward_length"));
    config.numLayers = file.integer(key("block_count"));
    config.numHeads = file.integer(key("attention.head_count"));
    config.numKeyValueHeads = file.integerOr(key("attention.head_count_kv"), config.numHeads);
    if (config.hiddenSize <= 0 || config.numLayers <= 0 || config.numHeads <= 0 ||
        config.numKeyValueHeads <= 0 || config.intermediateSize <= 0 ||
        config.numHeads % config.numKeyValueHeads != 0)
        throw Error(where + ": impossible hyperparameters (hidden " + std::to_string(config.hiddenSize) +
                    ", layers " + std::to_string(config.numLayers) + ", heads " +
                    std::to_string(config.numHeads) + "/" + std::to_string(config.numKeyValueHeads) + ")");
    config.headDim = file.integerOr(key("attention.key_length"), config.hiddenSize / config.numHeads);
    config.maxPositionEmbeddings = file.integerOr(key("context_length"), 2048);
    config.rmsNormEps = file.numberOr(key("attention.layer_norm_rms_epsilon"), 1e-6);
    config.ropeTheta = file.numberOr(key("rope.freq_base"), 10000.0);
    const std::string scaling = file.stringOr(key("rope.scaling.type"), "none");
    if (scaling == "linear") {
        config.ropeScaling.type = "linear";
        config.ropeScaling.factor = file.number(key("rope.scaling.factor"));
    } else if (scaling != "none") {
        throw Error(where + " uses RoPE scaling '" + scaling + "', which is not supported (none or linear).");
    }
    if (file.hasTensor("rope_freqs.weight"))
        recogniseLlama3Scaling(file, config);
    if (file.has("tokenizer.ggml.tokens"))
        config.vocabSize = static_cast<int64_t>(file.value("tokenizer.ggml.tokens").value.size());
    else
        config.vocabSize = file.integerOr(key("vocab_size"), 0);
    if (config.vocabSize <= 0 && file.hasTensor("token_embd.weight"))
        config.vocabSize = file.tensorInfo("token_embd.weight").shape()[0];
    config.tieWordEmbeddings = !file.hasTensor("output.weight");
    config.attentionBias = file.hasTensor("blk.0.attn_q.bias");
    config.qkNorm = file.hasTensor("blk.0.attn_q_norm.weight");
    config.bosTokenId = file.integerOr("tokenizer.ggml.bos_token_id", -1);
    if (file.has("tokenizer.ggml.eos_token_id"))
        config.eosTokenIds = {file.integer("tokenizer.ggml.eos_token_id")};
    const int64_t fileType = file.integerOr("general.file_type", -1);
    config.torchDtype = fileType == 1 ? "float16" : fileType == 32 ? "bfloat16" : "float32";
    return config;
}

// The tensors every layer needs must be there with the shapes the config implies: a mislabelled file
// is reported here rather than as a shape error deep inside a forward pass.
void checkTensors(const GgufFile &file, const ModelConfig &config)
{
    const int64_t qRows = config.numHeads * config.headDim, kvRows = config.numKeyValueHeads * config.headDim;
    auto expect = [&](const std::string &name, std::vector<int64_t> shape) {
        if (!file.hasTensor(name))
            throw Error("GGUF file '" + file.path() + "' lacks tensor '" + name +
                        "': the file is incomplete.");
        if (file.tensorInfo(name).shape() != shape)
            throw Error("GGUF file '" + file.path() + "': tensor '" + name + "' has shape " +
                        c10::str(c10::IntArrayRef(file.tensorInfo(name).shape())) +
                        " but the metadata implies " + c10::str(c10::IntArrayRef(shape)));
    };
    expect("token_embd.weight", {config.vocabSize, config.hiddenSize});
    expect("output_norm.weight", {config.hiddenSize});
    for (int64_t layer = 0; layer < config.numLayers; ++layer) {
        const std::string p = "blk." + std::to_string(layer) + ".";
        expect(p + "attn_q.weight", {qRows, config.hiddenSize});
        expect(p + "attn_k.weight", {kvRows, config.hiddenSize});
        expect(p + "attn_v.weight", {kvRows, config.hiddenSize});
        expect(p + "attn_output.weight", {config.hiddenSize, qRows});
        expect(p + "ffn_gate.weight", {config.intermediateSize, config.hiddenSize});
        expect(p + "ffn_up.weight", {config.intermediateSize, config.hiddenSize});
        expect(p + "ffn_down.weight", {config.hiddenSize, config.intermediateSize});
        expect(p + "attn_norm.weight", {config.hiddenSize});
        expect(p + "ffn_norm.weight", {config.hiddenSize});
    }
}

} // namespace

ModelFiles openGgufModel(const std::string &path)
{
    auto file = std::make_shared<GgufFile>(path);
    ModelFiles model;
    model.path = path;
    model.format = "gguf";
    model.config = configFromMetadata(*file);
    checkTensors(*file, model.config);
    model.weights = std::make_shared<GgufWeightSource>(file, model.config);
    model.tokenizerJson = ggufTokenizerJson(*file);
    model.tokenizerConfig = ggufTokenizerConfig(*file);
    model.generationConfig = ggufGenerationConfig(*file);
    return model;
}

} // namespace emloc::core
