#pragma once
// A vision-language model's inputs in the stages that run its language model (training, evaluation):
// the token embeddings with each image's rows at its image tokens. The rows come from the source's
// vision tower and projector, frozen and dense, resident while this object lives.

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
// (its emulator.json says the tower is the source's): opened from the source recorded there. Error when
// that source is gone, is not a vision-language model, or changed since the build; nullopt for any other
// model.
std::optional<VisionLanguageFiles> visionSourceOfEmulator(const std::string &path);

} // namespace emloc::core
