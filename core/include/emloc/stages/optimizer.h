#pragma once

#include "emloc/api/run_choices.h"
#include "emloc/api/run_defaults.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace emloc::core {

struct AdamWOptions
{
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double weightDecay = run_defaults::kWeightDecay.value;
};

// AdamW with decoupled weight decay, step for step the arithmetic of torch.optim.AdamW (non-foreach):
// p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// Its whole state (moments and step count) can be saved and restored, so a resumed run continues
// bit for bit. Owns nothing but the moments; the parameters stay owned by their modules.
class AdamW
{
public:
    AdamW(std::vector<torch::Tensor> parameters, AdamWOptions options);

    // One update with the gradients held by the parameters (a parameter without gradient is skipped).
    void step(double learningRate);
    void zeroGrad();
    int64_t stepCount() const { return m_step; }
    const std::vector<torch::Tensor> &parameters() const { return m_parameters; }

    // "exp_avg.<i>", "exp_avg_sq.<i>" for parameter i: the moments to checkpoint.
    std::vector<std::pair<std::string, torch::Tensor>> stateTensors() const;
    // Restores moments saved by stateTensors() and the step count; Error names a missing or misshapen one.
    void loadState(const std::vector<std::pair<std::string, torch::Tensor>> &tensors, int64_t stepCount);

private:
    std::vector<torch::Tensor> m_parameters;
    std::vector<torch::Tensor> m_expAvg;
    std::vector<torch::Tensor> m_expAvgSq;
    AdamWOptions m_options;
    int64_t m_step = 0;
};

// Scales gradients so that their global L2 norm is at most `maxNorm` (as torch.nn.utils.clip_grad_norm_);
// returns the norm before clipping. maxNorm <= 0: measure only.
double clipGradNorm(const std::vector<torch::Tensor> &parameters, double maxNorm);

// LrSchedule and its names: emloc/api/run_choices.h.
LrSchedule parseLrSchedule(const std::string &name); // "cosine", "linear", "constant"
std::string lrScheduleName(LrSchedule schedule);

// The learning rate of optimizer step `step` (0-based) of `totalSteps`, as transformers' schedulers with
// warmup compute it: linear warmup from 0 over `warmupSteps`, then cosine to 0, linear to 0 or constant.
double learningRateAt(LrSchedule schedule, double peak, int64_t step, int64_t totalSteps,
                      int64_t warmupSteps);

// Warmup steps for a ratio: ceil(ratio * totalSteps), as transformers' get_warmup_steps.
int64_t warmupStepsFor(double ratio, int64_t totalSteps);

} // namespace emloc::core
