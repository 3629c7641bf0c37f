#pragma once
// A vision-language model's inputs in the stages that run its language model (training, evaluation):
// the token embeddings with each image's rows at its image tokens. The rows come from the vision tower and
// projector, frozen, resident while this object lives: the source's, or an emulator's compressed tower.

#include "emloc/model/causal_lm.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/vision_language_model.h"

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace emloc::core {

class ImageInputs
{
public:
    ImageInputs(const VisionLanguageFiles &files, const TensorPlacement &placement);

    // model.embed(ids) with `images` (a batch's or an example's, in reading order) at the image tokens.
    // The rows carry no gradient: the tower is not trained. `where` names the inputs in errors.
    torch::Tensor embed(const CausalLM &model, const torch::Tensor &ids,
                        const std::vector<std::string> &images,
                        const std::string &where = "a training batch") const;

private:
    ImageRowEncoder m_encoder;
    int64_t m_imageTokenId = -1;
};

// The vision-language model an emulator stands for, when `path` is an emulator of one's language model
// (its emulator.json names the source's tower): opened from the source recorded there, with the
// emulator's compressed tower linears (emulator.json's vision_tower.weights) in place of the source's when
// the build compressed them. Error when that source is gone, is not a vision-language model, or changed
// since the build, or the factors file is missing; nullopt for any other model.
std::optional<VisionLanguageFiles> visionSourceOfEmulator(const std::string &path);

} // namespace emloc::core
