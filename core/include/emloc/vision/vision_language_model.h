#pragma once
// An InternVL model as the engine runs it: the vision tower and projector (vision_tower.h) and the
// language model (a CausalLM over the checkpoint's language weights), the images' embeddings spliced
// into the prompt's token embeddings at the image context tokens, in order.

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/vision/internvl_config.h"
#include "emloc/vision/internvl_tiles.h"
#include "emloc/vision/vision_tower.h"

#include <memory>
#include <optional>
#include <string>

namespace emloc::core {

struct VisionLanguageFiles
{
    std::string path;
    InternVLConfig config;
    TilingSettings tiling;
    // All three parts' tensors under internvl_weights.h's names.
    std::shared_ptr<WeightSource> weights;
    // The language model as a text model folder would give it: its config, its weights under causal-LM
    // names (and no others), the tokenizer files.
    ModelFiles language;
};

// A folder whose config.json describes a vision-language model (InternVL or another family).
bool isVisionLanguageFolder(const std::string &path);

// A model as the stages run it: a text model's files, or a vision-language model's language model
// (`files`, with its tokenizer) beside the whole model (`vision`), whose tower puts the images in.
struct StageModel
{
    std::optional<VisionLanguageFiles> vision;
    ModelFiles files;
};
StageModel openStageModel(const std::string &path);

// Opens an InternVL folder in either layout. Error names the folder, the file and the field; a
// vision-language model of another family is refused naming the supported ones.
VisionLanguageFiles openVisionLanguageModel(const std::string &path);

class VisionLanguageModel
{
public:
    explicit VisionLanguageModel(const VisionLanguageFiles &files, const CausalLMOptions &options = {},
                                 Feedback *feedback = nullptr);

    const InternVLConfig &config() const { return m_config; }

    // [tiles, tokens per tile, hidden] for pixelValues [tiles, 3, S, S].
    torch::Tensor imageEmbeddings(const torch::Tensor &pixelValues) const;
    // Token embeddings of ids [B, T] with the image embeddings' rows placed at the image tokens, in
    // reading order. Error when the count of image tokens differs from the rows the images give.
    torch::Tensor embed(const torch::Tensor &ids, const torch::Tensor &imageEmbeddings) const;
    // Final-normed hidden states [B, T, hidden]; pixelValues undefined for a text-only input.
    torch::Tensor forwardHidden(const torch::Tensor &ids, const torch::Tensor &pixelValues = {},
                                const torch::Tensor &attentionMask = {}, KVCache *cache = nullptr);
    // Logits [B, T, vocab].
    torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &pixelValues = {},
                          const torch::Tensor &attentionMask = {}, KVCache *cache = nullptr);

    // Continues one prompt whose image tokens stand for the tiles of pixelValues.
    GenerationResult generate(const std::vector<int64_t> &promptIds, const torch::Tensor &pixelValues,
                              const GenerationOptions &options, const TokenCallback &onToken = {},
                              Feedback *feedback = nullptr);

private:
    InternVLConfig m_config;
    CausalLM m_language;
    InternVisionTower m_tower;
};

} // namespace emloc::core
