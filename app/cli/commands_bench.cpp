// `emloc bench ...`: the engine's own measurements for bench/ and bench/gpu/check.sh. Each prints one
// JSON object with --json, so the scripts compare our numbers with llama.cpp, transformers and PEFT.
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/error.h"
#include "emloc/api/parse_number.h"
#include "emloc/io/dtype.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/math/activation_svd.h"
#include "emloc/math/linear_algebra.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/throughput.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/util/torch_runtime.h"

#include <torch/cuda.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>

namespace emloc::cli {

namespace {

using Clock = std::chrono::steady_clock;

void synchronize(const torch::Device &device)
{
    if (device.is_cuda())
        torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}

core::TensorPlacement placementFor(const CliContext &context, const std::string &dtype)
{
    core::TensorPlacement placement;
    placement.device = torch::Device(core::parseDevice(context.device).toString());
    placement.dtype = core::parseComputeDtype(dtype, placement.device);
    return placement;
}

// --- matmul -------------------------------------------------------------------------------------

struct MatmulArgs
{
    int64_t size = 2048;
    double seconds = 1.0;
    std::string dtype = "auto";
};

void runMatmul(CommandOutput &output, CliContext &context, const MatmulArgs &args)
{
    const auto placement = placementFor(context, args.dtype);
    const auto rate = core::measureMatmulRate(placement.device, placement.dtype, args.size, args.seconds);
    if (context.json) {
        output.setJson({{"device", placement.device.str()},
                        {"dtype", core::shortDtypeName(placement.dtype)},
                        {"threads", core::threadCount()},
                        {"size", rate.size},
                        {"repeats", rate.repeats},
                        {"seconds", rate.seconds},
                        {"flops_per_second", rate.flopsPerSecond}});
        return;
    }
    output.printf("%lld x %lld matmul, %s on %s (%d threads): %.1f GFLOP/s (%lld products in %.2f s)\n",
                  (long long)rate.size, (long long)rate.size, core::shortDtypeName(placement.dtype).c_str(),
                  placement.device.str().c_str(), core::threadCount(), rate.flopsPerSecond / 1e9,
                  (long long)rate.repeats, rate.seconds);
}

// --- forward ------------------------------------------------------------------------------------

struct ForwardArgs
{
    std::string model;
    int64_t batch = 1;
    int64_t length = 512;
    int64_t repeat = 3;
    std::string dtype = "auto";
};

void runForward(CommandOutput &output, CliContext &context, const ForwardArgs &args, core::Feedback &feedback)
{
    const core::ModelFiles files = core::openModel(args.model);
    core::CausalLMOptions options;
    options.placement = placementFor(context, args.dtype);
    const torch::Device device = options.placement.device;
    core::MemoryMeter meter(device.str());
    meter.reset();
    core::CausalLM model(files, options, &feedback);

    int64_t linearParameters = 0;
    for (const auto &name : model.linearNames())
        linearParameters += model.linearSlot(name)->parameterCount();
    torch::NoGradGuard noGrad;
    torch::manual_seed(0);
    const auto ids = torch::randint(0, files.config.vocabSize, {args.batch, args.length},
                                    torch::TensorOptions().dtype(torch::kLong).device(device));
    model.forward(ids); // warm-up: thread pools, allocator, kernels
    synchronize(device);
    const auto started = Clock::now();
    for (int64_t i = 0; i < args.repeat; ++i) {
        feedback.checkpoint();
        model.forward(ids);
    }
    synchronize(device);
    const double seconds = secondsSince(started) / static_cast<double>(args.repeat);
    const int64_t peak = meter.read().peakBytes;
    const double flops = core::estimateForwardFlops(files.config, linearParameters, args.batch, args.length);
    const auto matmul = core::measureMatmulRate(device, options.placement.dtype);
    const double tokensPerSecond = static_cast<double>(args.batch * args.length) / seconds;
    const double fraction = flops / seconds / matmul.flopsPerSecond;
    if (context.json) {
        output.setJson({{"model", files.path},
                        {"device", device.str()},
                        {"dtype", core::shortDtypeName(options.placement.dtype)},
                        {"threads", core::threadCount()},
                        {"batch", args.batch},
                        {"length", args.length},
                        {"linear_parameters", linearParameters},
                        {"seconds_per_forward", seconds},
                        {"tokens_per_second", tokensPerSecond},
                        {"flops_per_forward", flops},
                        {"flops_per_second", flops / seconds},
                        {"matmul_flops_per_second", matmul.flopsPerSecond},
                        {"fraction_of_matmul", fraction},
                        {"peak_memory_bytes", peak}});
        return;
    }
    output.printf("Forward       %lld x %lld tokens in %.3f s: %.0f tokens/s\n", (long long)args.batch,
                  (long long)args.length, seconds, tokensPerSecond);
    output.printf("Rate          %.1f GFLOP/s, %.0f %% of the %.1f GFLOP/s matmul rate\n",
                  flops / seconds / 1e9, 100.0 * fraction, matmul.flopsPerSecond / 1e9);
    output.printf("Peak memory   %s\n", core::formatBytes(peak).c_str());
}

// --- svd ----------------------------------------------------------------------------------------

struct SvdArgs
{
    std::string model;
    int64_t layer = 0;
    double ratio = 0.4;
    int64_t samples = 4096;
};

// The inputs that share a Gram in stage 1, and the projections each one feeds.
struct GramGroup
{
    std::string name;
    std::vector<std::string> projections;
};

const std::vector<GramGroup> &gramGroups()
{
    static const std::vector<GramGroup> groups = {
        {"attention input", {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
        {"o_proj input", {"self_attn.o_proj"}},
        {"mlp input", {"mlp.gate_proj", "mlp.up_proj"}},
        {"down_proj input", {"mlp.down_proj"}}};
    return groups;
}

// A Gram of `samples` synthetic activations whose scales decay over the features, as real ones do.
torch::Tensor syntheticGram(int64_t features, int64_t samples, const torch::Device &device)
{
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    const auto scales = torch::exp(torch::linspace(0.0, -6.0, features, options));
    const auto x = torch::randn({samples, features}, options) * scales;
    return torch::matmul(x.t(), x);
}

// Seconds for the whole of one layer's stage-1 factorization with `algebra`: each Gram's whitening and
// each projection's activation-aware SVD at the rank for `ratio`.
nlohmann::json timeLayer(const core::LinearAlgebra &algebra, const std::vector<torch::Tensor> &grams,
                         const std::map<std::string, torch::Tensor> &weights, double ratio,
                         const torch::Device &device)
{
    { // warm-up: handles, workspaces, LAPACK's first call
        const auto small = syntheticGram(64, 128, device);
        core::factorizeLinear(torch::randn({32, 64}, small.options()),
                              core::whiteningFromGram(small, algebra), 8, algebra);
        synchronize(device);
    }
    nlohmann::json projections = nlohmann::json::object();
    double whitening = 0;
    double factorization = 0;
    for (size_t g = 0; g < gramGroups().size(); ++g) {
        auto started = Clock::now();
        const auto white = core::whiteningFromGram(grams[g], algebra);
        synchronize(device);
        whitening += secondsSince(started);
        for (const auto &name : gramGroups()[g].projections) {
            const auto &weight = weights.at(name);
            const int64_t rank = core::rankForRatio(ratio, weight.size(0), weight.size(1));
            started = Clock::now();
            core::factorizeLinear(weight, white, rank, algebra);
            synchronize(device);
            const double seconds = secondsSince(started);
            factorization += seconds;
            projections[name] = {
                {"shape", {weight.size(0), weight.size(1)}}, {"rank", rank}, {"seconds", seconds}};
        }
    }
    return {{"backend", algebra.name()},
            {"whitening_seconds", whitening},
            {"factorization_seconds", factorization},
            {"seconds", whitening + factorization},
            {"projections", projections}};
}

void runSvd(CommandOutput &output, CliContext &context, const SvdArgs &args)
{
    const core::ModelFiles files = core::openModel(args.model);
    if (args.layer < 0 || args.layer >= files.config.numLayers)
        throw core::Error("--layer " + std::to_string(args.layer) + " is outside the model's " +
                          std::to_string(files.config.numLayers) + " layers (0 to " +
                          std::to_string(files.config.numLayers - 1) + ")");
    const torch::Device device(core::parseDevice(context.device).toString());
    torch::NoGradGuard noGrad;
    torch::manual_seed(0);
    const std::string prefix = "model.layers." + std::to_string(args.layer) + ".";
    std::map<std::string, torch::Tensor> weights;
    std::vector<torch::Tensor> grams;
    for (const auto &group : gramGroups()) {
        for (const auto &name : group.projections)
            weights[name] = files.weights->tensor(prefix + name + ".weight").to(device, torch::kFloat32);
        grams.push_back(syntheticGram(weights.at(group.projections.front()).size(1), args.samples, device));
    }

    std::vector<std::unique_ptr<core::LinearAlgebra>> backends;
    backends.push_back(core::makeLibTorchLinearAlgebra());
    if (device.is_cuda())
        backends.push_back(core::makeCusolverLinearAlgebra());
    nlohmann::json results = nlohmann::json::array();
    for (const auto &backend : backends)
        results.push_back(timeLayer(*backend, grams, weights, args.ratio, device));
    if (context.json) {
        output.setJson({{"model", files.path},
                        {"device", device.str()},
                        {"layer", args.layer},
                        {"ratio", args.ratio},
                        {"gram_samples", args.samples},
                        {"threads", core::threadCount()},
                        {"backends", results}});
        return;
    }
    output.printf("Layer %lld of %s, ratio %.2f, float32 on %s (synthetic Grams of %lld samples)\n",
                  (long long)args.layer, files.path.c_str(), args.ratio, device.str().c_str(),
                  (long long)args.samples);
    for (const auto &result : results)
        output.printf("  %-10s %8.3f s  (whitening %.3f s, factorizations %.3f s)\n",
                      result["backend"].get<std::string>().c_str(), result["seconds"].get<double>(),
                      result["whitening_seconds"].get<double>(),
                      result["factorization_seconds"].get<double>());
}

// --- logits -------------------------------------------------------------------------------------

struct LogitsArgs
{
    std::string model;
    std::string ids;
    std::string text;
    std::string adapter;
    std::string out;
    std::string dtype = "auto";
};

std::vector<int64_t> parseIdList(const std::string &text, int64_t vocabSize)
{
    std::vector<int64_t> ids;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        const auto id = core::parseInt64(item);
        if (!id || *id < 0 || *id >= vocabSize)
            throw core::Error("--ids: \"" + item + "\" is not a token id between 0 and " +
                              std::to_string(vocabSize - 1) + "; give comma-separated ids such as 1,2,3");
        ids.push_back(*id);
    }
    if (ids.empty())
        throw core::Error("--ids is empty; give comma-separated token ids such as 1,2,3");
    return ids;
}

void runLogits(CommandOutput &output, CliContext &context, const LogitsArgs &args, core::Feedback &feedback)
{
    core::ModelFiles files = core::openModel(args.model);
    std::vector<int64_t> ids;
    if (!args.ids.empty()) {
        ids = parseIdList(args.ids, files.config.vocabSize);
    } else {
        if (!files.tokenizerJson.is_object() || files.tokenizerJson.empty())
            throw core::Error(files.path + " has no tokenizer; give --ids instead of --text");
        ids = core::Tokenizer::fromJson(files.tokenizerJson, files.path + " tokenizer")
                  ->encode(args.text, true);
    }
    const std::shared_ptr<core::WeightSource> weights =
        args.adapter.empty() ? files.weights : core::mergeAdapterFolder(files, args.adapter);
    core::CausalLMOptions options;
    options.placement = placementFor(context, args.dtype);
    core::CausalLM model(files.config, weights, options, &feedback);
    torch::NoGradGuard noGrad;
    const auto input = torch::tensor(ids, torch::kLong).unsqueeze(0).to(options.placement.device);
    const auto logits = model.forward(input).to(torch::kCPU, torch::kFloat32).contiguous();
    core::writeSafetensors(args.out, {{"logits", logits}, {"ids", input.cpu()}},
                           {{"model", files.path},
                            {"adapter", args.adapter},
                            {"dtype", core::shortDtypeName(options.placement.dtype)}});
    if (context.json) {
        output.setJson({{"out", args.out},
                        {"tokens", static_cast<int64_t>(ids.size())},
                        {"vocab_size", logits.size(2)},
                        {"dtype", core::shortDtypeName(options.placement.dtype)},
                        {"device", options.placement.device.str()}});
        return;
    }
    output.printf("Wrote logits [1, %zu, %lld] (%s on %s) to %s\n", ids.size(), (long long)logits.size(2),
                  core::shortDtypeName(options.placement.dtype).c_str(),
                  options.placement.device.str().c_str(), args.out.c_str());
}

CLI::Option *addDtypeOption(CLI::App *command, std::string &dtype, const char *what)
{
    return command->add_option("--dtype", dtype, what)
        ->check(floatTypeChoice({"auto", "fp32", "bf16", "fp16"}));
}

} // namespace

void registerBenchCommands(CLI::App &app, CliContext &context)
{
    auto *bench = app.add_subcommand(
        "bench",
        "Measure the engine: matmul rate, forward throughput, per-layer SVD time, logits for checks");
    bench->require_subcommand(1);

    auto matmul = std::make_shared<MatmulArgs>();
    auto *matmulCommand = bench->add_subcommand("matmul", "The machine's square matmul rate (GFLOP/s)");
    matmulCommand->add_option("--size", matmul->size, "Matrix size n")
        ->check(CLI::Range(1, 32768))
        ->default_val(2048);
    matmulCommand->add_option("--seconds", matmul->seconds, "Time at least this long")
        ->check(CLI::Range(0.0, 600.0))
        ->default_val(1.0);
    addDtypeOption(matmulCommand, matmul->dtype, "auto (fp32 on CPU, bf16 on CUDA), fp32, bf16, fp16");
    matmulCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    matmulCommand->callback([&context, matmul] {
        runCommand(context,
                   [&](core::Feedback &, CommandOutput &output) { runMatmul(output, context, *matmul); });
    });

    auto forward = std::make_shared<ForwardArgs>();
    auto *forwardCommand = bench->add_subcommand(
        "forward", "Forward passes over random tokens: tokens/s and the fraction of the matmul rate");
    forwardCommand->add_option("MODEL", forward->model, "A Hugging Face folder or a .gguf file")->required();
    forwardCommand->add_option("--batch", forward->batch, "Sequences per forward")
        ->check(CLI::Range(1, 4096))
        ->default_val(1);
    forwardCommand->add_option("--seq-len", forward->length, "Tokens per sequence")
        ->check(CLI::Range(1, 1 << 20))
        ->default_val(512);
    forwardCommand->add_option("--repeat", forward->repeat, "Timed forwards (after one warm-up)")
        ->check(CLI::Range(1, 1000))
        ->default_val(3);
    addDtypeOption(forwardCommand, forward->dtype, "Compute dtype");
    forwardCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    forwardCommand->callback([&context, forward] {
        runCommand(context, [&](core::Feedback &feedback, CommandOutput &output) {
            runForward(output, context, *forward, feedback);
        });
    });

    auto svd = std::make_shared<SvdArgs>();
    auto *svdCommand = bench->add_subcommand(
        "svd", "Time one layer's stage-1 factorization (whitening + activation-aware SVD) per linear-algebra "
               "backend: LibTorch, and cuSOLVER on CUDA");
    svdCommand->add_option("MODEL", svd->model, "A Hugging Face folder or a .gguf file")->required();
    svdCommand->add_option("--layer", svd->layer, "Decoder layer whose weights are factorized")
        ->default_val(0);
    svdCommand->add_option("--ratio", svd->ratio, "Fraction of each projection's parameters kept")
        ->check(CLI::Range(0.01, 1.0))
        ->default_val(0.4);
    svdCommand->add_option("--samples", svd->samples, "Synthetic activations per Gram")
        ->check(CLI::Range(16, 1 << 20))
        ->default_val(4096);
    svdCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    svdCommand->callback([&context, svd] {
        runCommand(context, [&](core::Feedback &, CommandOutput &output) { runSvd(output, context, *svd); });
    });

    auto logits = std::make_shared<LogitsArgs>();
    auto *logitsCommand = bench->add_subcommand(
        "logits",
        "Write the logits of one sequence (optionally with a PEFT adapter merged) to a safetensors file");
    logitsCommand->add_option("MODEL", logits->model, "A Hugging Face folder or a .gguf file")->required();
    auto *ids = logitsCommand->add_option("--ids", logits->ids, "Comma-separated token ids");
    logitsCommand->add_option("--text", logits->text, "A text, tokenized with special tokens")->excludes(ids);
    logitsCommand->add_option("--adapter", logits->adapter, "A PEFT adapter folder merged into the weights");
    logitsCommand->add_option("--out", logits->out, "The .safetensors file to write")->required();
    addDtypeOption(logitsCommand, logits->dtype, "Compute dtype");
    logitsCommand->add_flag("--json", context.json, "Machine-readable JSON on stdout");
    logitsCommand->callback([&context, logits] {
        runCommand(context, [&](core::Feedback &feedback, CommandOutput &output) {
            if (logits->ids.empty() && logits->text.empty())
                throw core::Error("give the sequence as --ids 1,2,3 or as --text \"...\"");
            runLogits(output, context, *logits, feedback);
        });
    });
}

} // namespace emloc::cli
