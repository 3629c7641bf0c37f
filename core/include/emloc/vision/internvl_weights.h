#pragma once
// An InternVL checkpoint's tensors under one naming, whichever layout it was saved in:
//  - the language model as a causal LM: "model.layers.3.self_attn.q_proj.weight", "lm_head.weight";
//  - the vision tower and the projector as transformers names them inside InternVLModel:
//    "vision_tower.encoder.layer.0.attention.q_proj.weight", "multi_modal_projector.linear_1.weight".
// Fused tensors are split on read: InternViT's attn.qkv (q, k, v stacked by rows) and InternLM2's
// attention.wqkv (per key/value head: its query heads, then its key head, then its value head).

#include "emloc/io/model_files.h"
#include "emloc/vision/internvl_config.h"

#include <memory>

namespace emloc::core {

struct VisionParameterCounts
{
    int64_t tower = 0;     // "vision_tower.*", every layer (also those after the selected feature layer)
    int64_t projector = 0; // "multi_modal_projector.*"
};

// Counted from the shapes of an internVLWeights() view; nothing is read.
VisionParameterCounts countVisionParameters(const WeightSource &weights);

// Which tensors a view holds: all three parts, or the language model's alone (as a text model's
// folder would give them).
enum class InternVLParts { All, LanguageModel };

std::shared_ptr<WeightSource> internVLWeights(std::shared_ptr<WeightSource> checkpoint,
                                              const InternVLConfig &config,
                                              InternVLParts parts = InternVLParts::All);

// The checkpoint's own name of the tensor an internVLWeights() view gives as `name`. Error when the view
// splits it out of a fused tensor (InternViT's qkv, InternLM2's wqkv).
std::string internVLStoredName(const WeightSource &view, const std::string &name);
// The checkpoint tensor that holds `name`, whole or as a part of a fused one.
std::string internVLSourceName(const WeightSource &view, const std::string &name);
// InternLM2's fused wqkv from a layer's q, k and v ([heads x head dim, hidden] each): per key/value head,
// its query heads' rows, then its key head's, then its value head's (the inverse of the view's split).
torch::Tensor fuseInternLM2Qkv(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v,
                               const ModelConfig &language);

} // namespace emloc::core
