#include "emloc/model/lora_linear.h"
#include "emloc/api/parse_number.h"
#include "emloc/model/dropout.h"

#include "emloc/api/error.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace emloc::core {

double LoraConfig::scale() const
{
    return rsLora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

std::vector<std::string> parseLoraTargets(const std::string &commaList)
{
    static const std::set<std::string> shortNames{"q", "k", "v", "o", "gate", "up", "down"};
    std::vector<std::string> targets;
    std::stringstream stream(commaList);
    std::string item;
    while (std::getline(stream, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item.empty())
            continue;
        targets.push_back(shortNames.count(item) ? item + "_proj" : item);
    }
    if (targets.empty())
        throw Error("no LoRA targets in \"" + commaList + "\" (e.g. q_proj,k_proj,v_proj,o_proj)");
    return targets;
}

LoraLinear::LoraLinear(std::shared_ptr<Linear> base, int64_t rank, double scale, double dropout,
                       torch::Device device, torch::ScalarType factorDtype)
    : m_base(std::move(base)), m_scale(scale), m_dropout(dropout)
{
    if (!m_base)
        throw Error("LoRA needs a projection to wrap");
    if (rank <= 0 || rank > std::min(m_base->inFeatures(), m_base->outFeatures()))
        throw Error("LoRA rank " + std::to_string(rank) + " must be between 1 and min(in, out) = " +
                    std::to_string(std::min(m_base->inFeatures(), m_base->outFeatures())));
    if (dropout < 0 || dropout >= 1)
        throw Error("LoRA dropout must be in [0, 1), got " + std::to_string(dropout));
    torch::NoGradGuard noGrad;
    // Drawn on the CPU so the same seed gives the same adapter on every device.
    auto a = torch::empty({rank, m_base->inFeatures()}, torch::kFloat64);
    torch::nn::init::kaiming_uniform_(a, std::sqrt(5.0));
    m_a = a.to(device, factorDtype).set_requires_grad(true);
    m_b = torch::zeros({m_base->outFeatures(), rank}, torch::dtype(factorDtype).device(device))
              .set_requires_grad(true);
}

torch::Tensor LoraLinear::forward(const torch::Tensor &x) const
{
    auto result = m_base->forward(x);
    auto input = (m_training && m_dropout > 0) ? hashedDropout(x, m_dropout) : x;
    // The cast is part of the graph: gradients reach the master factors in their own precision.
    auto a = m_a.scalar_type() == x.scalar_type() ? m_a : m_a.to(x.scalar_type());
    auto b = m_b.scalar_type() == x.scalar_type() ? m_b : m_b.to(x.scalar_type());
    // The scale on the rank-r side and the sum inside the GEMM (beta = 1): no [tokens, out] temporaries.
    auto down = (torch::nn::functional::linear(input, a) * m_scale).reshape({-1, a.size(0)});
    auto sum = torch::addmm(result.reshape({-1, result.size(-1)}), down, b.t());
    return sum.view(result.sizes());
}

std::vector<std::pair<std::string, torch::Tensor>> LoraLinear::namedTensors() const
{
    auto tensors = m_base->namedTensors();
    tensors.emplace_back("lora_A.weight", m_a);
    tensors.emplace_back("lora_B.weight", m_b);
    return tensors;
}

void LoraLinear::to(torch::Device device, torch::ScalarType dtype)
{
    m_base->to(device, dtype);
    torch::NoGradGuard noGrad;
    m_a = m_a.detach().to(device).set_requires_grad(true);
    m_b = m_b.detach().to(device).set_requires_grad(true);
}

int64_t layerIndexOf(const std::string &moduleName)
{
    const std::string prefix = "model.layers.";
    if (moduleName.rfind(prefix, 0) != 0)
        return -1;
    const size_t dot = moduleName.find('.', prefix.size());
    const std::string digits = moduleName.substr(prefix.size(), dot - prefix.size());
    const auto index = parseInt64(digits);
    return index && *index >= 0 ? *index : -1;
}

std::vector<torch::Tensor> LoraAttachment::parameters() const
{
    std::vector<torch::Tensor> result;
    for (const auto &module : modules) {
        result.push_back(module.second->a());
        result.push_back(module.second->b());
    }
    return result;
}

int64_t LoraAttachment::parameterCount() const
{
    int64_t count = 0;
    for (const auto &module : modules)
        count += module.second->a().numel() + module.second->b().numel();
    return count;
}

std::vector<int64_t> LoraAttachment::layers() const
{
    std::set<int64_t> indices;
    for (const auto &module : modules)
        indices.insert(layerIndexOf(module.first));
    return {indices.begin(), indices.end()};
}

void LoraAttachment::setTraining(bool training) const
{
    for (const auto &module : modules)
        module.second->setTraining(training);
}

std::vector<torch::Tensor> LoraAttachment::layerParameters(int64_t layer) const
{
    std::vector<torch::Tensor> result;
    for (const auto &module : modules)
        if (layerIndexOf(module.first) == layer) {
            result.push_back(module.second->a());
            result.push_back(module.second->b());
        }
    return result;
}

namespace {
bool matchesTarget(const std::string &moduleName, const std::string &target)
{
    if (moduleName == target)
        return true;
    return moduleName.size() > target.size() &&
           moduleName.compare(moduleName.size() - target.size(), target.size(), target) == 0 &&
           moduleName[moduleName.size() - target.size() - 1] == '.';
}
} // namespace

LoraAttachment attachLora(CausalLM &model, const LoraConfig &config, const std::vector<int64_t> &layers)
{
    if (config.rank <= 0)
        throw Error("the LoRA rank must be positive, got " + std::to_string(config.rank));
    if (config.targets.empty())
        throw Error("no LoRA targets were given");
    const std::set<int64_t> layerSet(layers.begin(), layers.end());
    for (int64_t layer : layerSet)
        if (layer < 0 || layer >= model.numLayers())
            throw Error("cannot put LoRA on layer " + std::to_string(layer) + ": the model has " +
                        std::to_string(model.numLayers()) + " layers");
    const auto &placement = model.placement();
    const auto factorDtype = placement.dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
    LoraAttachment attachment;
    attachment.config = config;
    std::set<std::string> matched;
    for (const auto &name : model.linearNames()) {
        if (!layerSet.empty() && !layerSet.count(layerIndexOf(name)))
            continue;
        for (const auto &target : config.targets) {
            if (!matchesTarget(name, target))
                continue;
            matched.insert(target);
            auto &slot = model.linearSlot(name);
            if (std::dynamic_pointer_cast<LoraLinear>(slot))
                throw Error(name + " carries LoRA already; detach it before attaching another");
            auto lora = std::make_shared<LoraLinear>(slot, config.rank, config.scale(), config.dropout,
                                                     placement.device, factorDtype);
            slot = lora;
            attachment.modules.emplace_back(name, lora);
            break;
        }
    }
    for (const auto &target : config.targets)
        if (!matched.count(target))
            throw Error("the LoRA target \"" + target +
                        "\" matches no projection of the model (valid: q_proj, k_proj, v_proj, o_proj, "
                        "gate_proj, up_proj, down_proj, or a full name such as model.layers.0.mlp.up_proj)");
    return attachment;
}

void detachLora(CausalLM &model, const LoraAttachment &attachment)
{
    for (const auto &module : attachment.modules) {
        auto &slot = model.linearSlot(module.first);
        if (slot == module.second)
            slot = module.second->base();
    }
}

} // namespace emloc::core
