// Per-layer gradient checkpointing as a custom autograd function (no activations kept in forward).
#include "emloc/stages/train_loop.h"
#include "generator_state.h"

#include <ATen/autocast_mode.h>

namespace emloc::core {

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the backward pass needs to run the layer again exactly as the forward did.
struct Recompute : torch::CustomClassHolder
{
    std::function<torch::Tensor(const torch::Tensor &)> run;
    torch::Device device = torch::kCPU;
    torch::Tensor cpuRngState;
    torch::Tensor deviceRngState;
    bool autocast = false;
    torch::ScalarType autocastDtype = torch::kBFloat16;
};

// Restores the generators (and autocast) for the re-run, then puts back what backward found.
class ReplayGuard
{
public:
    explicit ReplayGuard(const Recompute &recompute) : m_recompute(recompute)
    {
        m_cpuState = generatorState(torch::kCPU);
        setGeneratorState(torch::kCPU, recompute.cpuRngState);
        if (recompute.device.is_cuda()) {
            m_deviceState = generatorState(recompute.device);
            setGeneratorState(recompute.device, recompute.deviceRngState);
            m_autocastWas = at::autocast::is_autocast_enabled(at::kCUDA);
            m_autocastDtypeWas = at::autocast::get_autocast_dtype(at::kCUDA);
            at::autocast::set_autocast_enabled(at::kCUDA, recompute.autocast);
            at::autocast::set_autocast_dtype(at::kCUDA, recompute.autocastDtype);
        }
    }
    ~ReplayGuard()
    {
        setGeneratorState(torch::kCPU, m_cpuState);
        if (m_recompute.device.is_cuda()) {
            setGeneratorState(m_recompute.device, m_deviceState);
            at::autocast::set_autocast_enabled(at::kCUDA, m_autocastWas);
            at::autocast::set_autocast_dtype(at::kCUDA, m_autocastDtypeWas);
            at::autocast::clear_cache();
        }
    }

private:
    const Recompute &m_recompute;
    torch::Tensor m_cpuState;
    torch::Tensor m_deviceState;
    bool m_autocastWas = false;
    torch::ScalarType m_autocastDtypeWas = torch::kBFloat16;
};

class CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer>
{
public:
    static variable_list forward(AutogradContext *context, torch::Tensor hidden, torch::TensorList parameters,
                                 c10::intrusive_ptr<Recompute> recompute)
    {
        recompute->cpuRngState = generatorState(torch::kCPU);
        if (recompute->device.is_cuda()) {
            recompute->deviceRngState = generatorState(recompute->device);
            recompute->autocast = at::autocast::is_autocast_enabled(at::kCUDA);
            recompute->autocastDtype = at::autocast::get_autocast_dtype(at::kCUDA);
        }
        torch::Tensor output;
        {
            torch::NoGradGuard noGrad;
            output = recompute->run(hidden);
        }
        context->save_for_backward({hidden});
        context->saved_data["recompute"] = c10::IValue::make_capsule(recompute);
        context->saved_data["parameters"] = static_cast<int64_t>(parameters.size());
        for (size_t i = 0; i < parameters.size(); ++i)
            context->saved_data["p" + std::to_string(i)] = parameters[i];
        return {output};
    }

    static variable_list backward(AutogradContext *context, variable_list gradOutputs)
    {
        auto recompute =
            c10::static_intrusive_pointer_cast<Recompute>(context->saved_data["recompute"].toCapsule());
        const auto saved = context->get_saved_variables();
        const int64_t count = context->saved_data["parameters"].toInt();
        const bool hiddenNeedsGrad = context->needs_input_grad(0);

        torch::Tensor input = saved[0].detach().requires_grad_(hiddenNeedsGrad);
        std::vector<torch::Tensor> wrt;
        if (hiddenNeedsGrad)
            wrt.push_back(input);
        for (int64_t i = 0; i < count; ++i)
            wrt.push_back(context->saved_data["p" + std::to_string(i)].toTensor());

        variable_list grads;
        {
            torch::AutoGradMode enableGrad(true);
            ReplayGuard replay(*recompute);
            auto output = recompute->run(input);
            grads = torch::autograd::grad({output}, wrt, {gradOutputs[0]}, /*retain_graph=*/false,
                                          /*create_graph=*/false, /*allow_unused=*/true);
        }
        variable_list result;
        size_t next = 0;
        result.push_back(hiddenNeedsGrad ? grads[next++] : torch::Tensor());
        for (int64_t i = 0; i < count; ++i)
            result.push_back(grads[next++]);
        result.push_back(torch::Tensor()); // the recompute capsule
        return result;
    }
};
} // namespace

torch::Tensor runLayerCheckpointed(CausalLM &model, int64_t index, const torch::Tensor &hidden,
                                   const LayerInputs &inputs, const std::vector<torch::Tensor> &parameters)
{
    auto recompute = c10::make_intrusive<Recompute>();
    recompute->device = hidden.device();
    recompute->run = [&model, index, inputs](const torch::Tensor &x) {
        return model.runLayer(index, x, inputs);
    };
    return CheckpointedLayer::apply(hidden, torch::TensorList(parameters), recompute)[0];
}

} // namespace emloc::core
