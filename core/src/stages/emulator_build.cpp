// Stage 1 (method.md): calibrate on the user's data and factorize every decoder projection with
// activation-aware SVD, one layer resident at a time.
#include "emloc/stages/emulator_build.h"
#include "emloc/io/dtype.h"

#include "emloc/api/error.h"
#include "emloc/api/stages.h"
#include "emloc/dist/collective.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/staging_folder.h"
#include "emloc/math/activation_svd.h"
#include "emloc/math/linear_algebra.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/decoder_layer.h"
#include "emloc/model/low_rank_linear.h"
#include "emloc/model/rotary_embedding.h"
#include "emloc/model/weight_loading.h"
#include "emloc/util/memory.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/image_rows.h"
#include "emulator_writer.h"
#include "module_plan.h"
#include "vision_emulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace emloc::core {

namespace {
namespace fs = std::filesystem;

torch::ScalarType stageComputeDtype(const std::string &text, torch::Device device)
{
    if (floatDtypeFromName(text) == torch::kFloat64)
        return torch::kFloat64;
    return parseComputeDtype(text, device);
}

torch::ScalarType outputDtypeFor(const std::string &text, const ModelConfig &config,
                                 torch::ScalarType compute)
{
    if (text == "auto") {
        if (compute == torch::kFloat64)
            return torch::kFloat64; // exact checks keep their precision
        const std::optional<torch::ScalarType> stored = floatDtypeFromName(config.torchDtype);
        return stored == torch::kBFloat16 || stored == torch::kFloat16 ? *stored : torch::kFloat32;
    }
    if (const std::optional<torch::ScalarType> type = floatDtypeFromName(text))
        return *type;
    throw Error("unknown output dtype \"" + text + "\" (accepted: auto, fp32, bf16, fp16, fp64)");
}

// Retained fraction of the energy at each ratio of energyCurveRatios().
// One projection of a layer: its plan, and the factors and record of whichever rank factorized it.
struct ModuleResult
{
    std::string name;
    ModulePlan plan;
    nlohmann::json record;
    int64_t stored = 0; // the rank computed (the allocation may keep more than the uniform rule)
    LowRankFactors factors;
};

// Which rank factorizes each Gram group of `layer`: the largest (SVD work ~ m n min(m, n)) first, each to
// the rank with the least work so far. The same on every rank; all rank 0 with one process.
std::map<std::string, int> groupOwners(DecoderLayer &layer, const GramAccumulator &grams, int world)
{
    std::map<std::string, double> cost;
    for (const auto &local : DecoderLayer::linearNames()) {
        const auto &slot = layer.linearSlot(local);
        const double out = double(slot->outFeatures()), in = double(slot->inFeatures());
        cost[grams.groupOf(layer.prefix() + local)] += out * in * std::min(out, in);
    }
    std::vector<std::pair<double, std::string>> largestFirst;
    for (const auto &[group, work] : cost)
        largestFirst.emplace_back(-work, group);
    std::sort(largestFirst.begin(), largestFirst.end());
    std::vector<double> load(static_cast<size_t>(std::max(1, world)), 0.0);
    std::map<std::string, int> owners;
    for (const auto &[negativeWork, group] : largestFirst) {
        const auto least = std::min_element(load.begin(), load.end()) - load.begin();
        owners[group] = static_cast<int>(least);
        load[static_cast<size_t>(least)] -= negativeWork;
    }
    return owners;
}

// Rank 0 receives the factors and records the other ranks computed (one text gather for their shapes and
// records, one all-reduce for the tensors, each owner's slots filled and the rest zeros). Returns the
// whitening's clamped eigenvalues of this layer over all ranks (each group is whitened by one rank).
double gatherFactors(Collective &collective, std::vector<ModuleResult> &results,
                     const std::map<std::string, int> &owners, const GramAccumulator &grams, int rank,
                     double clamped, torch::ScalarType dtype, const std::string &what)
{
    nlohmann::json mine = nlohmann::json::object();
    for (const ModuleResult &result : results)
        if (!result.plan.dense && owners.at(grams.groupOf(result.name)) == rank)
            mine[result.name] = {{"record", result.record},
                                 {"stored", result.stored},
                                 {"rank", result.factors.rank},
                                 {"k", result.factors.up.size(1)},
                                 {"values", result.factors.singularValues.size(0)}};
    const std::vector<std::string> texts = collective.allGather(mine.dump(), what + " (their shapes)");
    std::vector<nlohmann::json> byRank;
    for (const std::string &text : texts)
        byRank.push_back(nlohmann::json::parse(text));
    std::vector<torch::Tensor> tensors;
    std::vector<ModuleResult *> received;
    for (ModuleResult &result : results) {
        if (result.plan.dense)
            continue;
        const int owner = owners.at(grams.groupOf(result.name));
        const nlohmann::json &entry = byRank.at(static_cast<size_t>(owner)).at(result.name);
        const int64_t k = entry.at("k").get<int64_t>();
        auto up = torch::zeros({result.plan.out, k}, dtype), down = torch::zeros({k, result.plan.in}, dtype);
        auto values = torch::zeros({entry.at("values").get<int64_t>()}, dtype);
        if (owner == rank) {
            up.copy_(result.factors.up);
            down.copy_(result.factors.down);
            values.copy_(result.factors.singularValues);
        } else {
            result.record = entry.at("record");
            result.stored = entry.at("stored").get<int64_t>();
            result.factors.rank = entry.at("rank").get<int64_t>();
        }
        tensors.insert(tensors.end(), {up, down, values});
        received.push_back(&result);
    }
    auto clampedSum = torch::tensor({clamped}, torch::kFloat64);
    tensors.push_back(clampedSum);
    collective.allReduceSum(tensors, what);
    for (size_t i = 0; i < received.size(); ++i) {
        received[i]->factors.up = tensors[3 * i];
        received[i]->factors.down = tensors[3 * i + 1];
        received[i]->factors.singularValues = tensors[3 * i + 2];
    }
    return clampedSum.item<double>();
}

nlohmann::json energyCurve(const torch::Tensor &energies, int64_t out, int64_t in)
{
    auto cumulative = energies.cumsum(0);
    const double total = energies.sum().item<double>();
    auto values = cumulative.accessor<double, 1>();
    nlohmann::json curve = nlohmann::json::array();
    for (double ratio : energyCurveRatios()) {
        const int64_t rank = std::min(rankForRatio(ratio, out, in), energies.size(0));
        curve.push_back(total > 0 ? values[rank - 1] / total : 1.0);
    }
    return curve;
}

struct AllocationCandidate
{
    std::string name;
    int64_t out = 0, in = 0;
    int64_t uniformRank = 0;
    int64_t maxRank = 0;
    torch::Tensor energies; // float64, CPU, descending
};

// Ranks from the spectra of all candidates (method.md step 7's refinement): under the uniform rule's
// parameter count, keep the components with the most whitened energy per parameter (s_i^2 / (m + n)),
// across layers. Each module's energies descend, so this greedy choice is the optimum up to the last
// component that does not fit. Every module keeps at least rank 1.
std::map<std::string, int64_t> allocateRanks(const std::vector<AllocationCandidate> &candidates)
{
    int64_t budget = 0;
    std::map<std::string, int64_t> ranks;
    struct Item
    {
        double density;
        size_t module;
        int64_t position;
    };
    std::vector<Item> items;
    for (size_t m = 0; m < candidates.size(); ++m) {
        const auto &c = candidates[m];
        const int64_t cost = c.out + c.in;
        budget += c.uniformRank * cost - cost;
        ranks[c.name] = 1;
        auto values = c.energies.accessor<double, 1>();
        for (int64_t p = 1; p < std::min(c.maxRank, c.energies.size(0)); ++p)
            items.push_back({values[p] / double(cost), m, p});
    }
    std::stable_sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
        return a.density > b.density || (a.density == b.density && a.position < b.position);
    });
    for (const auto &item : items) {
        const auto &c = candidates[item.module];
        const int64_t cost = c.out + c.in;
        int64_t &rank = ranks[c.name];
        // Components of one module come in order; once one does not fit, its later ones are skipped.
        if (cost > budget || rank != item.position)
            continue;
        rank = item.position + 1;
        budget -= cost;
    }
    return ranks;
}

void copyOrWriteJson(const std::string &sourceFolder, const fs::path &target, const char *fileName,
                     const nlohmann::json &fallback)
{
    const fs::path source = fs::path(sourceFolder) / fileName;
    std::error_code error;
    if (!sourceFolder.empty() && fs::is_regular_file(source, error)) {
        writeFileAtomically((target / fileName).string(), readTextFile(source.string()));
        return;
    }
    if (fallback.is_object() && !fallback.empty())
        writeFileAtomically((target / fileName).string(), fallback.dump(2) + "\n");
}

std::string layerPartName(int64_t index)
{
    char name[48];
    std::snprintf(name, sizeof name, "layer-%05lld.safetensors", static_cast<long long>(index));
    return name;
}

// Before any work: an output folder is named, and is new unless it may be replaced.
void requireOutputFolder(const EmulatorOptions &options)
{
    if (options.outputPath.empty())
        throw Error("no output folder was given for the emulator");
    const fs::path outputPath = fs::absolute(options.outputPath).lexically_normal();
    std::error_code error;
    if (fs::exists(outputPath, error) && !options.overwrite)
        throw Error("the output folder '" + outputPath.string() +
                    "' already exists; choose another folder or allow overwriting it");
}

torch::ScalarType gramDtypeFor(const EmulatorOptions &options, const TensorPlacement &placement)
{
    return options.gramFloat64 || placement.dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// The language model's emulator from chosen samples; `tower`: a vision-language model's compressed tower,
// written beside it.
EmulatorBuildResult buildLanguageEmulator(const ModelFiles &source, const CalibrationSet &calibration,
                                          const EmulatorOptions &options, Feedback &feedback,
                                          const VisionTowerEmulator *tower);
} // namespace

TensorPlacement emulatorBuildPlacement(const EmulatorOptions &options)
{
    TensorPlacement placement;
    placement.device = torch::Device(parseDevice(options.device).toString());
    placement.dtype = stageComputeDtype(options.computeDtype, placement.device);
    return placement;
}

EmulatorBuildResult buildEmulator(const VisionLanguageFiles &source, const EmulatorOptions &options,
                                  Feedback &feedback)
{
    rankForRatio(options.ratio, 1, 1); // a bad ratio fails before the data is read
    if (options.visionRatio > 0)
        rankForRatio(options.visionRatio, 1, 1);
    return buildEmulator(source, loadCalibrationSet(source, options.calibration, nullptr, &feedback), options,
                         feedback);
}

EmulatorBuildResult buildEmulator(const VisionLanguageFiles &source, CalibrationSet calibration,
                                  const EmulatorOptions &options, Feedback &feedback)
{
    const auto started = std::chrono::steady_clock::now();
    rankForRatio(options.ratio, 1, 1);
    requireOutputFolder(options); // before the tower's run
    const TensorPlacement placement = emulatorBuildPlacement(options);
    MemoryMeter meter(options.device);
    meter.reset();
    std::optional<VisionTowerEmulator> tower;
    if (options.visionRatio > 0) { // compressed in the same pass that computes the samples' image rows
        rankForRatio(options.visionRatio, 1, 1);
        tower =
            compressVisionTower(source, calibration, options, placement, gramDtypeFor(options, placement),
                                outputDtypeFor(options.outputDtype, source.language.config, placement.dtype),
                                *makeLinearAlgebra(options.device), feedback);
    } else {
        encodeCalibrationImages(source, calibration, placement, &feedback);
    }
    const int64_t towerPeak = meter.read().peakBytes;
    const double towerSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    releaseFreedMemory(); // the tower's
    EmulatorBuildResult result =
        buildLanguageEmulator(source.language, calibration, options, feedback, tower ? &*tower : nullptr);
    result.imageEncodingPeakBytes = towerPeak;
    result.peakMemoryBytes = std::max(result.peakMemoryBytes, towerPeak);
    result.seconds += towerSeconds;
    return result;
}

EmulatorBuildResult buildEmulator(const ModelFiles &source, const EmulatorOptions &options,
                                  Feedback &feedback)
{
    rankForRatio(options.ratio, 1, 1); // a bad ratio fails before the data is read
    CalibrationSet calibration = loadCalibrationSet(source, options.calibration, &feedback);
    return buildEmulator(source, calibration, options, feedback);
}

EmulatorBuildResult buildEmulator(const ModelFiles &source, const CalibrationSet &calibration,
                                  const EmulatorOptions &options, Feedback &feedback)
{
    return buildLanguageEmulator(source, calibration, options, feedback, nullptr);
}

namespace {

EmulatorBuildResult buildLanguageEmulator(const ModelFiles &source, const CalibrationSet &calibration,
                                          const EmulatorOptions &options, Feedback &feedback,
                                          const VisionTowerEmulator *tower)
{
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    MemoryMeter meter(options.device);
    meter.reset();

    rankForRatio(options.ratio, 1, 1);
    requireOutputFolder(options);
    if (options.chunkSize < 1)
        throw Error("the calibration chunk must hold at least one sequence");
    if (options.visionRatio > 0 && !tower)
        throw Error("emulator.vision_ratio compresses a vision-language model's vision tower, but '" +
                    source.path + "' is a text model; leave vision_ratio at 0");
    if (calibration.sequences.empty() || calibration.tokens == 0)
        throw Error("the calibration set has no tokens: nothing to calibrate the emulator on");
    const fs::path outputPath = fs::absolute(options.outputPath).lexically_normal();
    std::error_code fsError;
    if (!source.weights)
        throw Error("the model '" + source.path + "' has no weights");

    // Several processes: rank r runs the chunks r, r + W, ...; they share the factorization; rank 0 writes.
    Collective *collective = options.collective;
    const int world = worldSizeOf(collective), rank = rankOf(collective);
    const bool leader = isLeader(collective);
    const auto samples = static_cast<int64_t>(calibration.sequences.size());
    if (samples < world)
        throw Error("the calibration set has " + std::to_string(samples) + " samples for " +
                    std::to_string(world) + " processes, which need one each: raise " +
                    "emulator.calibration_samples or run fewer processes");
    // Every rank gets a chunk (the chunk size changes only the padding, which no Gram sees).
    const int64_t chunkSize =
        world > 1 ? std::min(options.chunkSize, (samples + world - 1) / world) : options.chunkSize;
    auto mine = [&](size_t chunk) { return static_cast<int>(chunk % static_cast<size_t>(world)) == rank; };

    const ModelConfig &config = source.config;
    const WeightSource &weights = *source.weights;
    const TensorPlacement placement = emulatorBuildPlacement(options);
    const torch::ScalarType mathDtype = gramDtypeFor(options, placement);
    const torch::ScalarType outputDtype = outputDtypeFor(options.outputDtype, config, placement.dtype);
    auto linearAlgebra = makeLinearAlgebra(options.device);
    torch::NoGradGuard noGrad;

    // Built beside its destination and moved into place when complete: a failed or cancelled build
    // leaves nothing behind, and an existing emulator is replaced only by a complete one.
    std::optional<StagingFolder> staging;
    fs::path stagingPath, parts;
    if (leader) {
        fs::create_directories(outputPath.parent_path(), fsError);
        staging.emplace(outputPath.string(), options.overwrite);
        stagingPath = staging->path();
        parts = stagingPath / "parts";
        fs::create_directories(parts, fsError);
        if (fsError)
            throw Error("cannot create the folder '" + parts.string() + "': " + fsError.message());
    }
    auto toOutput = [&](const torch::Tensor &t) { return t.to(torch::kCPU, outputDtype).contiguous(); };

    // The embeddings, the final norm and the head are copied; the embeddings also start the calibration.
    const std::vector<CalibrationChunk> chunks = calibrationChunks(calibration, chunkSize);
    const bool tied = config.tieWordEmbeddings || !weights.contains("lm_head.weight");
    std::vector<torch::Tensor> hidden;
    {
        auto embedding = loadTensor(weights, "model.embed_tokens.weight",
                                    {config.vocabSize, config.hiddenSize}, placement);
        std::vector<std::pair<std::string, torch::Tensor>> head{
            {"model.embed_tokens.weight", toOutput(embedding)},
            {"model.norm.weight",
             toOutput(loadTensor(weights, "model.norm.weight", {config.hiddenSize}, placement))}};
        if (!tied)
            head.emplace_back("lm_head.weight",
                              toOutput(loadTensor(weights, "lm_head.weight",
                                                  {config.vocabSize, config.hiddenSize}, placement)));
        if (leader)
            writeSafetensors((parts / "head.safetensors").string(), head);
        head.clear();
        hidden.resize(chunks.size());
        for (size_t c = 0; c < chunks.size(); ++c) {
            if (!mine(c))
                continue;
            feedback.checkpoint();
            feedback.stageProgress(Stage::Calibrate, static_cast<int64_t>(c),
                                   static_cast<int64_t>(chunks.size()));
            auto ids = chunks[c].ids.to(placement.device);
            auto [low, high] = torch::aminmax(ids);
            if (low.item<int64_t>() < 0 || high.item<int64_t>() >= config.vocabSize)
                throw Error("a calibration token id is outside the model's vocabulary [0, " +
                            std::to_string(config.vocabSize) +
                            "): the tokenizer does not belong to this model");
            torch::Tensor embedded = torch::embedding(embedding, ids);
            if (calibration.imageTokenId >= 0) // a vision-language model: its images at their tokens
                embedded = spliceImageRows(embedded, ids, chunks[c].imageRows, calibration.imageTokenId);
            hidden[c] = embedded;
        }
        feedback.stageProgress(Stage::Calibrate, static_cast<int64_t>(chunks.size()),
                               static_cast<int64_t>(chunks.size()));
    }
    releaseFreedMemory();

    const RotaryEmbedding rope(config);
    nlohmann::json modules = nlohmann::json::object();
    std::vector<AllocationCandidate> candidates;
    std::map<std::string, int64_t> keptRanks; // factorized modules -> rank stored in the parts
    int64_t sourceParameters = 0;
    for (const auto &name : weights.names()) {
        int64_t count = 1;
        for (int64_t size : weights.shape(name))
            count *= size;
        sourceParameters += count;
    }
    const int64_t layers = config.numLayers;
    double clampedEigenvalues = 0;
    for (int64_t index = 0; index < layers; ++index) {
        feedback.checkpoint();
        feedback.stageProgress(Stage::Build, index, layers);
        auto layer = std::make_unique<DecoderLayer>(config, weights, index, placement);
        for (const auto &local : DecoderLayer::linearNames())
            if (layer->linear(local)->kind() != "dense")
                throw Error("'" + source.path + "' is already an emulator (" + layer->prefix() + local +
                            " is stored as low-rank factors): build the emulator from the original model");

        // The original layer's outputs are the next layer's inputs: every Gram sees the activations of the
        // uncompressed model (method.md, step 1).
        GramAccumulator grams(mathDtype);
        const auto observer = grams.observer();
        for (size_t c = 0; c < chunks.size(); ++c) {
            if (!mine(c))
                continue;
            feedback.checkpoint();
            const auto &chunk = chunks[c];
            torch::Tensor mask;
            if (chunk.attentionMask.defined())
                mask = chunk.attentionMask.to(placement.device);
            LayerInputs inputs = prepareLayerInputs(config, rope, chunk.ids.size(0), chunk.ids.size(1), mask,
                                                    nullptr, placement);
            hidden[c] = layer->forward(hidden[c], inputs, nullptr, observer);
        }
        torch::Tensor rankMemory; // every rank's, for the Run page's per-GPU lines
        if (world > 1) {
            rankMemory = rankSlots(*collective, static_cast<double>(meter.read().currentBytes));
            grams.sumOver(*collective, "the calibration of layer " + std::to_string(index), {rankMemory});
        }
        // Several processes: the layer's Gram groups are dealt over the ranks (whitening is per group), each
        // rank factorizes its groups' modules, and rank 0 collects their factors in one exchange.
        const std::map<std::string, int> owners = groupOwners(*layer, grams, world);
        std::vector<ModuleResult> results(DecoderLayer::linearNames().size());
        std::map<std::string, Whitening> whitenings; // by Gram group: q/k/v and gate/up share one
        const double clampedBefore = clampedEigenvalues;
        for (size_t m = 0; m < results.size(); ++m) {
            const std::string &local = DecoderLayer::linearNames()[m];
            const std::string name = layer->prefix() + local;
            auto &slot = layer->linearSlot(local);
            auto dense = std::dynamic_pointer_cast<DenseLinear>(slot);
            const bool lastDown = index == layers - 1 && local == "mlp.down_proj";
            ModuleResult &result = results[m];
            result.name = name;
            result.plan =
                planModule(name, slot->outFeatures(), slot->inFeatures(), lastDown, options.ratio, options);
            const ModulePlan &plan = result.plan;
            result.record = {{"out", plan.out}, {"in", plan.in}, {"rule", plan.rule}};
            nlohmann::json &record = result.record;
            if (plan.dense) {
                record["kind"] = "dense";
                record["rank"] = std::min(plan.out, plan.in);
                record["whitened_error"] = 0.0;
                record["retained_energy"] = 1.0;
                record["parameters"] = plan.out * plan.in;
                continue;
            }
            if (owners.at(grams.groupOf(name)) != rank)
                continue; // another rank's
            torch::Tensor weight = dense->weight().to(mathDtype);
            Whitening whitening;
            if (!options.plainSvd) {
                whitening = groupWhitening(grams, name, whitenings, *linearAlgebra, options.whiteningEpsilon,
                                           clampedEigenvalues);
                record["clamped_eigenvalues"] = whitening.clampedEigenvalues;
            }
            const int64_t maxRank = std::min(plan.out, plan.in);
            const int64_t allocationCap = std::min(maxRank, rankForRatio(1.0, plan.out, plan.in));
            const bool allocate = options.allocateRanks && plan.ratioRule;
            result.stored = allocate ? std::max(plan.rank, allocationCap) : plan.rank;
            result.factors = factorizeLinear(weight, whitening, result.stored, *linearAlgebra);
            const LowRankFactors &factors = result.factors;
            torch::Tensor energies = factors.singularValues.to(torch::kCPU, torch::kFloat64).square();
            record["kind"] = "low_rank";
            record["uniform_rank"] = plan.rank;
            record["parameters"] = plan.rank * (plan.out + plan.in);
            recordSpectrum(record, energies, plan.rank);
            if (plan.ratioRule)
                record["energy_curve"] = energyCurve(energies, plan.out, plan.in);
            if (options.plainSvd) {
                // The plain factors' error on the calibration activations: ||(W - W')X^T||^2 = tr(D G D^T).
                auto difference =
                    weight - factors.up.slice(1, 0, plan.rank).matmul(factors.down.slice(0, 0, plan.rank));
                const double squared =
                    (difference.matmul(grams.gramFor(name)) * difference).sum().item<double>();
                record["activation_error"] = std::sqrt(std::max(0.0, squared));
                record["svd_error"] = record["whitened_error"];
            }
        }
        if (world > 1) {
            const double clamped =
                gatherFactors(*collective, results, owners, grams, rank, clampedEigenvalues - clampedBefore,
                              mathDtype, "the factors of layer " + std::to_string(index));
            clampedEigenvalues = clampedBefore + clamped;
        }
        if (!leader) { // the next layer reads the original layer's outputs: nothing to wait for here
            grams.clear();
            layer.reset();
            releaseFreedMemory();
            continue;
        }
        // In the modules' order, whichever rank factorized them: the allocation sees the single process's
        // candidate list.
        for (size_t m = 0; m < results.size(); ++m) {
            ModuleResult &result = results[m];
            modules[result.name] = result.record;
            if (result.plan.dense)
                continue;
            const std::string &local = DecoderLayer::linearNames()[m];
            auto &slot = layer->linearSlot(local);
            auto dense = std::dynamic_pointer_cast<DenseLinear>(slot);
            if (options.allocateRanks && result.plan.ratioRule)
                candidates.push_back(
                    {result.name, result.plan.out, result.plan.in, result.plan.rank, result.stored,
                     result.factors.singularValues.to(torch::kCPU, torch::kFloat64).square()});
            keptRanks[result.name] = result.factors.rank;
            torch::Tensor bias = dense->bias().defined() ? dense->bias().to(mathDtype) : torch::Tensor();
            slot = std::make_shared<LowRankLinear>(result.factors.up.to(placement.device),
                                                   result.factors.down.to(placement.device), bias);
        }
        whitenings.clear();
        grams.clear();

        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto &named : layer->namedTensors())
            tensors.emplace_back(named.first, toOutput(named.second));
        writeSafetensors((parts / layerPartName(index)).string(), tensors);
        tensors.clear();
        layer.reset();
        releaseFreedMemory();

        const MemoryReading reading = meter.read();
        MetricSample sample;
        sample.stage = stageKey(Stage::Build);
        sample.step = index + 1;
        sample.totalSteps = layers;
        sample.elapsedSeconds = elapsed();
        sample.etaSeconds = sample.elapsedSeconds / double(index + 1) * double(layers - index - 1);
        sample.memoryBytes = reading.currentBytes;
        sample.peakMemoryBytes = reading.peakBytes;
        if (rankMemory.defined())
            sample.rankMemoryBytes = rankSlotValues(rankMemory);
        feedback.metric(sample);
    }
    hidden.clear();
    releaseFreedMemory();
    feedback.stageProgress(Stage::Build, layers, layers);
    if (!leader) { // rank 0 assembles and writes the emulator
        EmulatorBuildResult share;
        share.outputPath = outputPath.string();
        share.calibrationTokens = calibration.tokens;
        share.peakMemoryBytes = meter.read().peakBytes;
        share.seconds = elapsed();
        return share;
    }

    // The refinement: ranks from the spectra, at most the uniform rule's parameters.
    std::map<std::string, int64_t> finalRanks;
    for (const auto &[name, rank] : keptRanks)
        finalRanks[name] = modules[name]["uniform_rank"].get<int64_t>();
    if (options.allocateRanks && !candidates.empty()) {
        for (const auto &[name, rank] : allocateRanks(candidates)) {
            finalRanks[name] = rank;
            auto &record = modules[name];
            const auto candidate = std::find_if(candidates.begin(), candidates.end(),
                                                [&](const AllocationCandidate &c) { return c.name == name; });
            recordSpectrum(record, candidate->energies, rank);
            record["parameters"] = rank * (candidate->out + candidate->in);
            record["rule"] = "ratio, rank allocated from the spectra";
        }
    }

    // model.safetensors, one tensor at a time from the parts.
    std::vector<AssemblyEntry> entries;
    const std::string headPart = (parts / "head.safetensors").string();
    entries.push_back({"model.embed_tokens.weight", headPart, "model.embed_tokens.weight"});
    for (int64_t index = 0; index < layers; ++index) {
        const std::string partPath = (parts / layerPartName(index)).string();
        SafetensorsFile part(partPath);
        for (const auto &name : part.names()) {
            AssemblyEntry entry{name, partPath, name};
            const bool up = name.size() > 9 && name.compare(name.size() - 9, 9, kLowRankUpSuffix) == 0;
            const bool down = name.size() > 9 && name.compare(name.size() - 9, 9, kLowRankDownSuffix) == 0;
            if (up || down) {
                const std::string module = name.substr(0, name.size() - 9);
                if (finalRanks.at(module) != keptRanks.at(module)) {
                    entry.sliceDim = up ? 1 : 0;
                    entry.keep = finalRanks.at(module);
                }
            }
            entries.push_back(entry);
        }
    }
    entries.push_back({"model.norm.weight", headPart, "model.norm.weight"});
    if (!tied)
        entries.push_back({"lm_head.weight", headPart, "lm_head.weight"});
    const int64_t emulatorParameters =
        assembleSafetensors((stagingPath / "model.safetensors").string(), entries, &feedback);
    fs::remove_all(parts, fsError);

    // config.json (the original's, with the stored dtype), tokenizer files, emulator.json.
    ModelConfig emulatorConfig = config;
    emulatorConfig.torchDtype = hfDtypeName(outputDtype);
    emulatorConfig.tieWordEmbeddings = tied;
    writeFileAtomically((stagingPath / "config.json").string(),
                        modelConfigToJson(emulatorConfig).dump(2) + "\n");
    const std::string sourceFolder = source.format == "hf" ? source.path : std::string();
    copyOrWriteJson(sourceFolder, stagingPath, "tokenizer.json", source.tokenizerJson);
    copyOrWriteJson(sourceFolder, stagingPath, "tokenizer_config.json", source.tokenizerConfig);
    copyOrWriteJson(sourceFolder, stagingPath, "generation_config.json", source.generationConfig);
    if (!sourceFolder.empty())
        for (const char *extra : {"special_tokens_map.json", "chat_template.jinja", "tokenizer.model"})
            if (fs::is_regular_file(fs::path(sourceFolder) / extra, fsError))
                fs::copy_file(fs::path(sourceFolder) / extra, stagingPath / extra,
                              fs::copy_options::overwrite_existing, fsError);

    // The GUI's retained-energy(ratio) curve over all ratio-ruled modules, energy-weighted.
    const auto ratios = energyCurveRatios();
    std::vector<double> retained(ratios.size(), 0.0);
    double totalEnergy = 0;
    for (const auto &[name, record] : modules.items()) {
        if (!record.contains("energy_curve"))
            continue;
        const double energy = record["total_energy"].get<double>();
        totalEnergy += energy;
        for (size_t i = 0; i < ratios.size(); ++i)
            retained[i] += energy * record["energy_curve"][i].get<double>();
    }
    for (double &value : retained)
        value = totalEnergy > 0 ? value / totalEnergy : 1.0;

    const MemoryReading reading = meter.read();
    EmulatorBuildResult result;
    result.outputPath = outputPath.string();
    result.originalParameters = sourceParameters;
    result.emulatorParameters = emulatorParameters;
    result.calibrationTokens = calibration.tokens;
    result.peakMemoryBytes = reading.peakBytes;
    result.seconds = elapsed();
    nlohmann::json calibrationJson = options.calibration.toJson();
    calibrationJson["samples_used"] = calibration.sequences.size();
    calibrationJson["records_available"] = calibration.recordsAvailable;
    calibrationJson["tokens"] = calibration.tokens;
    calibrationJson["padded_tokens"] = paddedTokenCount(chunks);
    calibrationJson["chunk_size"] = chunkSize;
    calibrationJson["processes"] = world;
    calibrationJson["compute_dtype"] = hfDtypeName(placement.dtype);
    calibrationJson["gram_dtype"] = hfDtypeName(mathDtype);
    calibrationJson["whitening_epsilon"] = options.whiteningEpsilon;
    calibrationJson["clamped_eigenvalues"] = clampedEigenvalues;
    if (calibration.imageTokenId >= 0) {
        int64_t imageTokens = 0;
        for (const torch::Tensor &rows : calibration.imageRows)
            imageTokens += rows.defined() ? rows.size(0) : 0;
        calibrationJson["images"] = calibration.images;
        calibrationJson["image_tokens"] = imageTokens;
    }
    nlohmann::json overrides = nlohmann::json::array();
    for (const auto &rule : options.overrides)
        overrides.push_back(rule.text());
    result.manifest = {
        {"format", "emloc-emulator"},
        {"version", 1},
        {"created_by", std::string("emloc ") + buildInfo().emlocVersion},
        {"source",
         {{"path", fs::absolute(source.path).string()},
          {"format", source.format},
          {"fingerprint", modelFingerprint(source.path)},
          {"parameters", sourceParameters}}},
        {"method", options.plainSvd ? "plain SVD (ablation)" : "activation-aware SVD"},
        {"ratio", options.ratio},
        {"rank_allocation", options.allocateRanks ? "spectrum" : "uniform"},
        {"keep_last_down_proj_dense", options.keepLastDownProjDense},
        {"overrides", overrides},
        {"stored_dtype", hfDtypeName(outputDtype)},
        {"parameters", emulatorParameters},
        {"weight_names",
         {{"up", std::string("<module>") + kLowRankUpSuffix},
          {"down", std::string("<module>") + kLowRankDownSuffix}}},
        {"calibration", calibrationJson},
        {"energy_curve", {{"ratios", ratios}, {"retained_energy", retained}}},
        {"build",
         {{"device", options.device}, {"seconds", result.seconds}, {"peak_memory_bytes", reading.peakBytes}}},
        {"modules", modules}};
    // A vision-language model's emulator is its language model's; the later stages read the tower and the
    // projector from the source, the tower's compressed linears (if any) from this folder.
    if (tower) {
        writeSafetensors((stagingPath / kVisionTowerFactorsFile).string(), tower->factors);
        result.manifest["vision_tower"] = tower->manifest;
    } else if (calibration.imageTokenId >= 0) {
        result.manifest["vision_tower"] = "the source's, not compressed";
    }
    writeFileAtomically((stagingPath / "emulator.json").string(), result.manifest.dump(2) + "\n");

    // Into place: an existing folder is replaced only now that the new one is complete.
    feedback.checkpoint();
    if (!options.overwrite && fs::exists(outputPath, fsError))
        throw Error("the output folder '" + outputPath.string() +
                    "' appeared during the build; nothing was written there");
    staging->commit();
    return result;
}

} // namespace

} // namespace emloc::core
