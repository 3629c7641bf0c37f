#include "emloc/vision/internvl_mmproj.h"

#include "emloc/api/error.h"
#include "emloc/api/version.h"
#include "tensor_names.h"

#include <optional>

namespace emloc::core {

namespace {

// llama.cpp's name (gguf-py's TensorNameMap for MODEL_ARCH.MMPROJ) of one tower or projector tensor;
// nullopt for a layer past the one that feeds the projector; Error for a tensor its graph has no place for.
std::optional<std::string> ggufName(std::string name, int64_t usedLayers)
{
    const std::string original = name;
    if (name == "vision_tower.embeddings.cls_token")
        return "v.class_embd";
    if (name == "vision_tower.embeddings.position_embeddings")
        return "v.position_embd.weight";
    if (consumePrefix(name, "vision_tower.embeddings.patch_embeddings.projection."))
        return "v.patch_embd." + name;
    if (consumePrefix(name, "multi_modal_projector.")) {
        static const std::vector<std::pair<std::string, std::string>> kProjector = {
            {"layer_norm.", "mm.model.mlp.0."},
            {"linear_1.", "mm.model.mlp.1."},
            {"linear_2.", "mm.model.mlp.3."}};
        for (const auto &[theirs, ours] : kProjector)
            if (consumePrefix(name, theirs))
                return ours + name;
    } else if (consumePrefix(name, "vision_tower.encoder.layer.")) {
        const size_t dot = name.find('.');
        const int64_t layer = std::stoll(name.substr(0, dot));
        if (layer >= usedLayers)
            return std::nullopt;
        const std::string block = "v.blk." + std::to_string(layer) + ".";
        std::string local = name.substr(dot + 1);
        if (local == "lambda_1")
            return block + "ls1.weight";
        if (local == "lambda_2")
            return block + "ls2.weight";
        static const std::vector<std::pair<std::string, std::string>> kLayer = {
            {"attention.q_proj.", "attn_q."},
            {"attention.k_proj.", "attn_k."},
            {"attention.v_proj.", "attn_v."},
            {"attention.projection_layer.", "attn_out."},
            {"attention.q_norm.", "attn_q_norm."},
            {"attention.k_norm.", "attn_k_norm."},
            {"layernorm_before.", "ln1."},
            {"layernorm_after.", "ln2."},
            {"mlp.fc1.", "ffn_up."},
            {"mlp.fc2.", "ffn_down."}};
        for (const auto &[theirs, ours] : kLayer)
            if (consumePrefix(local, theirs))
                return block + ours + local;
    }
    throw Error("the tensor '" + original +
                "' has no place in llama.cpp's InternVL projector file; this checkpoint cannot be exported "
                "as an mmproj GGUF");
}

// The converter stores tensors squeezed (the class token [1, 1, C] as [C]).
std::vector<int64_t> squeezed(const std::vector<int64_t> &shape)
{
    std::vector<int64_t> result;
    for (int64_t size : shape)
        if (size != 1)
            result.push_back(size);
    if (result.empty())
        result.push_back(1);
    return result;
}

void checkRunnable(const VisionLanguageFiles &model)
{
    const InternVLConfig &config = model.config;
    const VisionTowerConfig &tower = config.vision;
    const auto refuse = [&](const std::string &why) {
        throw Error("'" + model.path + "' cannot be exported as a llama.cpp mmproj GGUF: " + why + ".");
    };
    if (tower.activation != "gelu" && tower.activation != "silu")
        refuse("its vision tower's activation is '" + tower.activation +
               "' and llama.cpp's InternVL graph runs gelu or silu");
    if (config.projectorActivation != "gelu")
        refuse("its projector's activation is '" + config.projectorActivation + "', llama.cpp's is gelu");
    if (tower.finalNorm)
        refuse("its vision tower ends with a norm llama.cpp's InternVL graph does not apply");
    // llama.cpp tells InternViT-6B (RMS norm) from InternViT-300M (layer norm) by its shape.
    const bool sixB = tower.hiddenSize == 3200 && tower.usedLayers == 45;
    if ((tower.normType == "rms_norm") != sixB)
        refuse("its vision tower uses " + tower.normType + " at a width of " +
               std::to_string(tower.hiddenSize) +
               " and llama.cpp infers the norm from the shape (RMS norm only for InternViT-6B)");
    if (tower.positionGrid * tower.patchSize != model.tiling.tileSize)
        refuse("its tiles are " + std::to_string(model.tiling.tileSize) +
               " pixels but its position embedding " + "covers " +
               std::to_string(tower.positionGrid * tower.patchSize) +
               ", and llama.cpp runs the tower at the embedding's size");
}

} // namespace

std::vector<std::pair<std::string, std::string>> internVLMmprojTensorNames(const VisionLanguageFiles &model)
{
    checkRunnable(model);
    std::vector<std::pair<std::string, std::string>> names;
    for (const std::string &name : model.weights->names()) {
        if (name.rfind("vision_tower.", 0) != 0 && name.rfind("multi_modal_projector.", 0) != 0)
            continue;
        if (const std::optional<std::string> gguf = ggufName(name, model.config.vision.usedLayers))
            names.emplace_back(name, *gguf);
    }
    return names;
}

void writeInternVLMmproj(const VisionLanguageFiles &model, const std::string &outPath, GgmlType matrixType,
                         Feedback *feedback)
{
    if (matrixType != GgmlType::F32 && matrixType != GgmlType::F16 && matrixType != GgmlType::BF16)
        throw Error("An mmproj GGUF stores its matrices as F32, F16 or BF16, not " +
                    ggmlTypeName(matrixType) + ".");
    const std::vector<std::pair<std::string, std::string>> names = internVLMmprojTensorNames(model);
    const InternVLConfig &config = model.config;
    const VisionTowerConfig &tower = config.vision;
    const auto count = [](int64_t value) { return GgufValue::uint32(static_cast<uint32_t>(value)); };
    const auto floats = [](const std::array<float, 3> &values) {
        return GgufValue::array(GgufValueType::Float32, nlohmann::json(values));
    };

    GgufWriter writer(32);
    writer.set("general.architecture", GgufValue::string("clip"));
    writer.set("general.type", GgufValue::string("mmproj"));
    writer.set("general.file_type", GgufValue::uint32(matrixType == GgmlType::F32   ? 0
                                                      : matrixType == GgmlType::F16 ? 1
                                                                                    : 32));
    writer.set("general.quantization_version", GgufValue::uint32(2));
    writer.set("general.description", GgufValue::string("vision projector of " + model.path +
                                                        ", written by " + kProductName + " " + kVersion));
    writer.set("clip.has_vision_encoder", GgufValue::boolean(true));
    writer.set("clip.vision.projection_dim", count(config.language.hiddenSize));
    writer.set("clip.vision.image_size", count(model.tiling.tileSize));
    writer.set("clip.vision.patch_size", count(tower.patchSize));
    writer.set("clip.vision.embedding_length", count(tower.hiddenSize));
    writer.set("clip.vision.feed_forward_length", count(tower.intermediateSize));
    // Only the layers up to the one whose output feeds the projector (select_layer) are written, so
    // llama.cpp, which runs every block of the file, computes the same features.
    writer.set("clip.vision.block_count", count(tower.usedLayers));
    writer.set("clip.vision.attention.head_count", count(tower.numHeads));
    writer.set("clip.vision.image_mean", floats(model.tiling.mean));
    writer.set("clip.vision.image_std", floats(model.tiling.std));
    writer.set("clip.projector_type", GgufValue::string("internvl"));
    writer.set("clip.vision.attention.layer_norm_epsilon",
               GgufValue::float32(static_cast<float>(tower.normEps)));
    writer.set(tower.activation == "silu" ? "clip.use_silu" : "clip.use_gelu", GgufValue::boolean(true));
    writer.set("clip.vision.projector.scale_factor", count(config.unshuffleFactor));
    // The checkpoint's own tiling, which the converter writes only when config.json names it.
    writer.set("clip.vision.preproc_min_tiles", count(model.tiling.minTiles));
    writer.set("clip.vision.preproc_max_tiles", count(model.tiling.maxTiles));

    const std::shared_ptr<WeightSource> weights = model.weights;
    for (const auto &[name, gguf] : names) {
        const std::vector<int64_t> shape = squeezed(weights->shape(name));
        const bool matrix = shape.size() >= 2 && gguf != "v.position_embd.weight";
        writer.addTensor(gguf, shape, matrix ? matrixType : GgmlType::F32,
                         [weights, name = name, shape] { return weights->tensor(name).reshape(shape); });
    }
    writer.write(outPath, feedback);
}

} // namespace emloc::core
