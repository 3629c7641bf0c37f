#pragma once
// The seven projections of a Llama-family decoder layer, in forward order. They are the default LoRA
// targets everywhere (core's LoRA options, the planner, the Studio's project) and the order in which
// adapters list their modules. Torch-free, so the Studio can include it.

#include <string>
#include <vector>

namespace emloc::core {

inline const std::vector<std::string> &decoderProjections()
{
    static const std::vector<std::string> names = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                   "gate_proj", "up_proj", "down_proj"};
    return names;
}

} // namespace emloc::core
