#pragma once
// Small random models written as Hugging Face folders, calibration sets of random tokens, and the
// activations the original model feeds each projection: what the stage-1 suites check against.

#include "../model/model_test_util.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/calibration.h"

#include <map>
#include <string>
#include <vector>

namespace emloc::test {

// `count` sequences of random ids in [3, vocab) with lengths from minLength to maxLength.
inline core::CalibrationSet randomCalibration(int64_t vocab, int count, int minLength, int maxLength,
                                              uint64_t seed)
{
    torch::manual_seed(seed);
    core::CalibrationSet set;
    for (int i = 0; i < count; ++i) {
        const int length = minLength + (maxLength > minLength ? i * 7 % (maxLength - minLength + 1) : 0);
        auto ids = torch::randint(3, vocab, {length}, torch::kInt64);
        set.sequences.emplace_back(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + length);
        set.recordNumbers.push_back(i + 1);
        set.tokens += length;
    }
    set.recordsAvailable = count;
    return set;
}

// The inputs X [tokens, in] of every projection of the original model over the calibration chunks
// (padding removed), by module name.
inline std::map<std::string, torch::Tensor>
projectionInputs(core::CausalLM &model, const core::CalibrationSet &set, int64_t chunkSize)
{
    std::map<std::string, std::vector<torch::Tensor>> rows;
    torch::NoGradGuard noGrad;
    auto observer = [&](const std::vector<std::string> &names, const torch::Tensor &x) {
        for (const auto &name : names)
            rows[name].push_back(x.clone());
    };
    for (const auto &chunk : core::calibrationChunks(set, chunkSize))
        model.forwardHidden(chunk.ids, chunk.attentionMask, nullptr, observer);
    std::map<std::string, torch::Tensor> inputs;
    for (auto &[name, parts] : rows)
        inputs[name] = torch::cat(parts, 0);
    return inputs;
}

} // namespace emloc::test
