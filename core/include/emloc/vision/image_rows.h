#pragma once
// A dataset's images as the EMLoC stages use them. The vision tower and the projector are frozen (the
// source's, or an emulator's compressed tower), so an example's image rows (what its tiles become in the
// language model's embedding space) are fixed: they are computed once from the record's images and put
// into the token embeddings where the image context tokens stand.

#include "emloc/model/decoder_layer.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/vision/rgb_image.h"
#include "emloc/vision/vision_language_model.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace emloc::core {

// embeddings [B, T, hidden] with `rows` [n, hidden] placed at the n positions of ids [B, T] that hold
// imageTokenId, in reading order (row by row). Error when the counts differ.
torch::Tensor spliceImageRows(const torch::Tensor &embeddings, const torch::Tensor &ids,
                              const torch::Tensor &rows, int64_t imageTokenId);

// How the model in `files` turns the records of the dataset at `datasetPath` into tokens
// (PrepareOptions::images): each placeholder becomes its image's tiles x tokens per tile context tokens.
ImageTokens datasetImageTokens(const VisionLanguageFiles &files, const std::string &datasetPath,
                               const ImageLimits &limits = {});

// The tower and projector of a vision-language model, resident while the object lives.
class ImageRowEncoder
{
public:
    ImageRowEncoder(const VisionLanguageFiles &files, const TensorPlacement &placement,
                    const ImageLimits &limits = {});

    // An example's image rows [its images' tiles x tokens per tile, hidden] in the compute dtype, the
    // images read again from their sources (TokenizedExample::images). `where` names the example in errors
    // ("data.jsonl: record 3").
    torch::Tensor rows(const std::vector<std::string> &images, const std::string &where) const;

private:
    TilingSettings m_tiling;
    ImageLimits m_limits;
    InternVisionTower m_tower;
};

} // namespace emloc::core
