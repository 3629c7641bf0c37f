// Any model (Hugging Face folder or GGUF) written as a GGUF llama.cpp loads: llama.cpp's metadata keys,
// tensor names and q/k row order, as convert_hf_to_gguf.py writes them.
#include "emloc/api/error.h"
#include "emloc/api/job.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_names.h"
#include "gguf_tokenizer.h"

#include <sys/stat.h>

#include <cmath>

namespace emloc::core {

namespace {

std::string ggufArchitecture(const ModelConfig &config)
{
    if (config.modelType == "llama" || config.modelType == "mistral")
        return "llama";
    if (config.modelType == "qwen2" || config.modelType == "qwen3")
        return config.modelType;
    throw Error("Cannot export a '" + config.modelType +
                "' model to GGUF; supported: " + supportedModelTypes());
}

// llama.cpp's LLAMA_FTYPE for a file whose matrices are all of this type.
uint32_t fileTypeOf(GgmlType type)
{
    switch (type) {
    case GgmlType::F32:
        return 0;
    case GgmlType::F16:
        return 1;
    case GgmlType::Q8_0:
        return 7;
    case GgmlType::BF16:
        return 32;
    default:
        return 0;
    }
}

std::string baseName(const std::string &path)
{
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
        trimmed.pop_back();
    std::string name = trimmed.substr(trimmed.find_last_of('/') + 1);
    if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf")
        name.resize(name.size() - 5);
    return name;
}

bool isRegularFile(const std::string &path)
{
    struct stat info
    {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

} // namespace

// The per-frequency factors llama.cpp multiplies Llama 3's RoPE wavelengths by
// (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors); also used to recognise them on read.
torch::Tensor llama3RopeFactors(const ModelConfig &config)
{
    const RopeScaling &s = config.ropeScaling;
    const int64_t half = config.headDim / 2;
    std::vector<float> factors;
    const double lowWavelength = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const double highWavelength = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (int64_t i = 0; i < half; ++i) {
        const float exponent = static_cast<float>(2 * i) / static_cast<float>(config.headDim);
        const double frequency = 1.0 / std::pow(static_cast<float>(config.ropeTheta), exponent);
        const double wavelength = 2 * M_PI / frequency;
        if (wavelength < highWavelength) {
            factors.push_back(1.0f);
        } else if (wavelength > lowWavelength) {
            factors.push_back(static_cast<float>(s.factor));
        } else {
            const double smooth = (s.originalMaxPositionEmbeddings / wavelength - s.lowFreqFactor) /
                                  (s.highFreqFactor - s.lowFreqFactor);
            factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth)));
        }
    }
    return torch::tensor(factors, torch::kFloat32);
}

void writeGgufModel(const ModelFiles &model, const std::string &outPath, const std::string &dtype,
                    Feedback *feedback)
{
    const GgmlType matrixType = parseGgmlType(dtype);
    if (!ggmlTypeWritable(matrixType))
        throw Error("Cannot write GGUF weights as " + dtype + "; use F32, F16, BF16 or Q8_0.");
    const ModelConfig &config = model.config;
    if (!model.weights)
        throw Error("Model '" + model.path + "' has no weights to export");
    const std::string arch = ggufArchitecture(config);
    auto key = [&](const std::string &suffix) { return arch + "." + suffix; };

    GgufWriter writer(32);
    writer.set("general.architecture", GgufValue::string(arch));
    writer.set("general.type", GgufValue::string("model"));
    writer.set("general.name", GgufValue::string(baseName(model.path)));
    writer.set("general.file_type", GgufValue::uint32(fileTypeOf(matrixType)));
    writer.set("general.quantization_version", GgufValue::uint32(2));
    writer.set(key("vocab_size"), GgufValue::uint32(static_cast<uint32_t>(config.vocabSize)));
    writer.set(key("context_length"), GgufValue::uint32(static_cast<uint32_t>(config.maxPositionEmbeddings)));
    writer.set(key("embedding_length"), GgufValue::uint32(static_cast<uint32_t>(config.hiddenSize)));
    writer.set(key("block_count"), GgufValue::uint32(static_cast<uint32_t>(config.numLayers)));
    writer.set(key("feed_forward_length"), GgufValue::uint32(static_cast<uint32_t>(config.intermediateSize)));
    writer.set(key("attention.head_count"), GgufValue::uint32(static_cast<uint32_t>(config.numHeads)));
    writer.set(key("attention.head_count_kv"),
               GgufValue::uint32(static_cast<uint32_t>(config.numKeyValueHeads)));
    writer.set(key("rope.freq_base"), GgufValue::float32(static_cast<float>(config.ropeTheta)));
    writer.set(key("attention.layer_norm_rms_epsilon"),
               GgufValue::float32(static_cast<float>(config.rmsNormEps)));
    writer.set(key("rope.dimension_count"), GgufValue::uint32(static_cast<uint32_t>(config.headDim)));
    if (config.headDim * config.numHeads != config.hiddenSize) {
        writer.set(key("attention.key_length"), GgufValue::uint32(static_cast<uint32_t>(config.headDim)));
        writer.set(key("attention.value_length"), GgufValue::uint32(static_cast<uint32_t>(config.headDim)));
    }
    if (config.ropeScaling.type == "linear") {
        writer.set(key("rope.scaling.type"), GgufValue::string("linear"));
        writer.set(key("rope.scaling.factor"),
                   GgufValue::float32(static_cast<float>(config.ropeScaling.factor)));
    } else if (!config.ropeScaling.type.empty() && config.ropeScaling.type != "llama3") {
        throw Error("Cannot export RoPE scaling '" + config.ropeScaling.type +
                    "' to GGUF (none, linear or llama3).");
    }

    // A GGUF source keeps its tokenizer metadata verbatim (llama.cpp's pre-tokenizer name included);
    // anything else is described from its tokenizer.json.
    if (model.format == "gguf" && isRegularFile(model.path)) {
        GgufFile source(model.path);
        copyGgufTokenizerMetadata(writer, source);
    } else {
        addGgufTokenizerMetadata(writer, model.tokenizerJson, model.tokenizerConfig, config.vocabSize,
                                 model.path);
    }

    if (config.ropeScaling.type == "llama3")
        writer.addTensor("rope_freqs.weight", llama3RopeFactors(config), GgmlType::F32);
    auto weights = model.weights;
    for (const auto &[hfName, ggufName] : ggufTensorNames(config)) {
        if (!weights->contains(hfName))
            continue;
        if (hfName == "lm_head.weight" && config.tieWordEmbeddings)
            continue;
        std::vector<int64_t> shape = weights->shape(hfName);
        const GgmlType type = shape.size() >= 2 ? matrixType : GgmlType::F32;
        const int64_t heads = qkPermutationHeads(config, hfName);
        writer.addTensor(ggufName, shape, type, [weights, hfName = hfName, heads] {
            torch::Tensor values = weights->tensor(hfName);
            return heads > 0 ? permuteQk(values, heads) : values;
        });
    }
    for (const char *required : {"model.embed_tokens.weight", "model.norm.weight"})
        if (!weights->contains(required))
            throw Error("Model '" + model.path + "' lacks the tensor '" + std::string(required) + "'");
    if (!config.tieWordEmbeddings && !weights->contains("lm_head.weight"))
        throw Error("Model '" + model.path + "' has untied embeddings but no lm_head.weight");
    writer.write(outPath, feedback);
}

} // namespace emloc::core
