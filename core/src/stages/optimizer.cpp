#include "emloc/stages/optimizer.h"

#include "emloc/api/error.h"

#include <cmath>
#include <map>

namespace emloc::core {

AdamW::AdamW(std::vector<torch::Tensor> parameters, AdamWOptions options)
    : m_parameters(std::move(parameters)), m_options(options)
{
    for (const auto &parameter : m_parameters) {
        // Moments in float32 at least, whatever the parameter's dtype, as torch keeps them like the param.
        m_expAvg.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
        m_expAvgSq.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
    }
}

void AdamW::step(double learningRate)
{
    torch::NoGradGuard noGrad;
    ++m_step;
    const double biasCorrection1 = 1 - std::pow(m_options.beta1, static_cast<double>(m_step));
    const double biasCorrection2 = 1 - std::pow(m_options.beta2, static_cast<double>(m_step));
    const double stepSize = learningRate / biasCorrection1;
    const double biasCorrection2Sqrt = std::sqrt(biasCorrection2);
    for (size_t i = 0; i < m_parameters.size(); ++i) {
        auto &parameter = m_parameters[i];
        const auto &grad = parameter.grad();
        if (!grad.defined())
            continue;
        parameter.mul_(1 - learningRate * m_options.weightDecay);
        m_expAvg[i].lerp_(grad, 1 - m_options.beta1);
        m_expAvgSq[i].mul_(m_options.beta2).addcmul_(grad, grad, 1 - m_options.beta2);
        auto denominator = (m_expAvgSq[i].sqrt() / biasCorrection2Sqrt).add_(m_options.epsilon);
        parameter.addcdiv_(m_expAvg[i], denominator, -stepSize);
    }
}

void AdamW::zeroGrad()
{
    for (auto &parameter : m_parameters)
        if (parameter.grad().defined())
            parameter.mutable_grad() = torch::Tensor();
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::stateTensors() const
{
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (size_t i = 0; i < m_parameters.size(); ++i) {
        tensors.emplace_back("exp_avg." + std::to_string(i), m_expAvg[i]);
        tensors.emplace_back("exp_avg_sq." + std::to_string(i), m_expAvgSq[i]);
    }
    return tensors;
}

void AdamW::loadState(const std::vector<std::pair<std::string, torch::Tensor>> &tensors, int64_t stepCount)
{
    std::map<std::string, torch::Tensor> byName(tensors.begin(), tensors.end());
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < m_parameters.size(); ++i) {
        for (auto [name, target] : {std::pair{"exp_avg." + std::to_string(i), &m_expAvg[i]},
                                    std::pair{"exp_avg_sq." + std::to_string(i), &m_expAvgSq[i]}}) {
            auto found = byName.find(name);
            if (found == byName.end())
                throw Error("the optimizer state has no " + name + "; the checkpoint belongs to another run");
            if (!found->second.sizes().equals(target->sizes()))
                throw Error("the optimizer state's " + name +
                            " has another shape than its parameter; the checkpoint belongs to another run");
            target->copy_(found->second);
        }
    }
    m_step = stepCount;
}

double clipGradNorm(const std::vector<torch::Tensor> &parameters, double maxNorm)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> norms;
    for (const auto &parameter : parameters)
        if (parameter.grad().defined())
            norms.push_back(parameter.grad().to(torch::kFloat64).norm().reshape({1}));
    if (norms.empty())
        return 0;
    const double total = torch::cat(norms).norm().item<double>();
    if (maxNorm > 0) {
        const double coefficient = maxNorm / (total + 1e-6);
        if (coefficient < 1)
            for (const auto &parameter : parameters)
                if (parameter.grad().defined())
                    parameter.grad().mul_(coefficient);
    }
    return total;
}

LrSchedule parseLrSchedule(const std::string &name)
{
    if (const std::optional<LrSchedule> schedule = choiceFromName(kLrScheduleChoices, name))
        return *schedule;
    throw Error("unknown learning-rate schedule \"" + name +
                "\" (accepted: " + choiceNames(kLrScheduleChoices) + ")");
}

std::string lrScheduleName(LrSchedule schedule)
{
    return choiceName(kLrScheduleChoices, schedule);
}

double learningRateAt(LrSchedule schedule, double peak, int64_t step, int64_t totalSteps, int64_t warmupSteps)
{
    if (step < warmupSteps)
        return peak * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmupSteps));
    const double span = static_cast<double>(std::max<int64_t>(1, totalSteps - warmupSteps));
    const double progress = static_cast<double>(step - warmupSteps) / span;
    switch (schedule) {
    case LrSchedule::Cosine:
        return peak * std::max(0.0, 0.5 * (1 + std::cos(M_PI * progress)));
    case LrSchedule::Linear:
        return peak * std::max(0.0, 1 - progress);
    case LrSchedule::Constant:
        return peak;
    }
    return peak;
}

int64_t warmupStepsFor(double ratio, int64_t totalSteps)
{
    return static_cast<int64_t>(std::ceil(ratio * static_cast<double>(totalSteps)));
}

} // namespace emloc::core
