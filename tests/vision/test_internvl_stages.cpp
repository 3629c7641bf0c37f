// Stages 1 and 2 on InternVL models (tests/reference/internvl_make_fixtures.py). Stage 1: the calibration
// samples keep their images, whose rows (the tower and projector's output) stand in the language model's
// input at the image tokens exactly where the model's own forward puts them; max_length never cuts an
// image; the emulator built from them is the language model's, with the tower left to the source.
// Stage 2: a training batch's loss is the model's own loss on the same records with their images.
// Stage 3: the adapter is named for the checkpoint, and peft loads it and agrees with us. The planner
// counts the tower. With the tower compressed too (EmulatorOptions::visionRatio), its factors are the
// activation-aware optimum on the original tower's activations, and the later stages run them.
#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/io/safetensors.h"
#include "emloc/io/safetensors_weights.h"
#include "emloc/math/activation_svd.h"
#include "emloc/stages/calibration.h"
#include "emloc/stages/emulator_build.h"
#include "emloc/stages/export.h"
#include "emloc/stages/image_inputs.h"
#include "emloc/stages/lora_training.h"
#include "emloc/text/model_text.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/image_rows.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/internvl_tiles.h"
#include "emloc/vision/internvl_weights.h"
#include "emloc/vision/vision_language_model.h"
#include "emloc/vision/vision_plan.h"
#include "emloc/vision/vision_tower.h"

#include "internvl_fixtures.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

using namespace emloc::core;
using namespace emloc::test;

namespace {
TempDir *g_dir = nullptr;
nlohmann::json g_summary;

std::string shippedImages()
{
    return testDataDir() + "/datasets/vision/internvl.jsonl";
}

CalibrationOptions calibrationOn(const std::string &data, int64_t maxLength = 4096)
{
    CalibrationOptions options;
    options.dataPath = data;
    options.maxLength = maxLength;
    options.samples = 16;
    return options;
}

// A random rank-4 LoRA (alpha 8) on every projection of the model's language model, seeded.
PeftAdapter randomLanguageAdapter(const VisionLanguageFiles &model, uint64_t seed)
{
    torch::manual_seed(seed);
    PeftAdapter adapter;
    adapter.config.r = 4;
    adapter.config.loraAlpha = 8;
    for (int64_t layer = 0; layer < model.config.language.numLayers; ++layer)
        for (const char *local : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                  "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
            const std::string module = "model.layers." + std::to_string(layer) + "." + local;
            const std::vector<int64_t> shape = model.language.weights->shape(module + ".weight");
            adapter.modules.push_back(
                {module, torch::randn({4, shape[1]}) * 0.2, torch::randn({shape[0], 4}) * 0.2});
        }
    return adapter;
}

// The calibration's and the trainer's placement in these tests.
const TensorPlacement kCpuFloat32{torch::kCPU, torch::kFloat32};
const TensorPlacement kCpuFloat64{torch::kCPU, torch::kFloat64};

double largestDifference(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

// The tiles of a calibration set's images, read as stage 1 reads them.
torch::Tensor calibrationTiles(const VisionLanguageFiles &files, const CalibrationSet &set)
{
    std::vector<torch::Tensor> tiles;
    for (const std::vector<std::string> &images : set.imageSources)
        for (const std::string &image : images)
            tiles.push_back(
                pixelValues(tileImage(readImageSource(image, image), files.tiling), files.tiling));
    return torch::cat(tiles, 0);
}

// A model's weights with each factorized tower linear's ".weight" composed from an emulator's factors
// (up x down): the compressed tower as a dense one, an independent reference for its forward.
class ComposedTowerWeights : public WeightSource
{
public:
    ComposedTowerWeights(std::shared_ptr<WeightSource> base, const std::string &factorsPath)
        : m_base(std::move(base)), m_factors(factorsPath)
    {}
    std::vector<std::string> names() const override { return m_base->names(); }
    bool contains(const std::string &name) const override { return m_base->contains(name); }
    std::vector<int64_t> shape(const std::string &name) const override { return m_base->shape(name); }
    torch::Tensor tensor(const std::string &name) const override
    {
        const std::string module = name.substr(0, name.size() - std::string(".weight").size());
        if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 &&
            m_factors.contains(module + ".weight_u"))
            return m_factors.tensor(module + ".weight_u").matmul(m_factors.tensor(module + ".weight_v"));
        return m_base->tensor(name);
    }

private:
    std::shared_ptr<WeightSource> m_base;
    SafetensorsFile m_factors;
};
} // namespace

SUITE_SETUP()
{
    configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    makeInternVLFixtures();
    g_dir = internVLFixtures().dir.get();
    g_summary = internVLFixtures().summary;
}

// Each chunk's first-layer input: the token embeddings with the chunk's image rows spliced in must equal
// the model's own embedding of the same ids with the images read, tiled and encoded as `generate` does.
TEST_CASE(calibrationInputsAreTheModelsOwn)
{
    torch::NoGradGuard noGrad;
    for (const std::string folder : {"qwen2_hf", "internlm2_original"}) {
        Row row(folder);
        const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath(folder));
        const CalibrationSet set = loadCalibrationSet(files, calibrationOn(shippedImages()), &kCpuFloat32);
        COMPARE(int(set.sequences.size()), 4);
        COMPARE(set.images, int64_t(g_summary["_internvl_jsonl_tiles"].size()));
        COMPARE(set.imageTokenId, files.config.imageTokenId);
        const int64_t perTile = files.config.tokensPerTile(files.tiling.tileSize);
        int64_t tiles = 0;
        for (const nlohmann::json &count : g_summary["_internvl_jsonl_tiles"])
            tiles += count.get<int64_t>();
        int64_t rows = 0;
        for (const torch::Tensor &imageRows : set.imageRows)
            rows += imageRows.defined() ? imageRows.size(0) : 0;
        COMPARE(rows, tiles * perTile);

        VisionLanguageModel model(files);
        for (const CalibrationChunk &chunk : calibrationChunks(set, 3)) {
            // The chunk's images in reading order: its rows' records, row by row.
            std::vector<std::string> images;
            for (int64_t r = 0; r < chunk.ids.size(0); ++r)
                for (size_t s = 0; s < set.sequences.size(); ++s)
                    if (int64_t(set.sequences[s].size()) <= chunk.ids.size(1) &&
                        torch::equal(chunk.ids[r].narrow(0, 0, int64_t(set.sequences[s].size())),
                                     torch::tensor(set.sequences[s], torch::kInt64)))
                        images.insert(images.end(), set.imageSources[s].begin(), set.imageSources[s].end());
            const PromptImages prompt = loadPromptImages(images, files.tiling);
            const torch::Tensor expected = model.embed(
                chunk.ids,
                prompt.pixelValues.defined() ? model.imageEmbeddings(prompt.pixelValues) : torch::Tensor());
            const torch::Tensor tokens = torch::embedding(
                files.language.weights->tensor("model.embed_tokens.weight").to(torch::kFloat32), chunk.ids);
            const torch::Tensor ours = spliceImageRows(tokens, chunk.ids, chunk.imageRows, set.imageTokenId);
            COMPARE((ours - expected).abs().max().item<double>(), 0.0);
        }
    }
}

// A max_length that would cut into an image's tokens skips the record, saying what to raise, even when
// the answer before the image is kept; one token more keeps it.
TEST_CASE(maxLengthNeverCutsAnImage)
{
    const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath("qwen2_hf"));
    const std::string image = testDataDir() + "/datasets/vision/images/red_square.png";
    const nlohmann::json twoTurns = {{"image", image},
                                     {"conversations",
                                      {{{"from", "human"}, {"value", "Hi."}},
                                       {{"from", "gpt"}, {"value", "Hello."}},
                                       {{"from", "human"}, {"value", "<image>\nWhat is shown?"}},
                                       {{"from", "gpt"}, {"value", "A red square."}}}}};
    const nlohmann::json textOnly = {
        {"conversations",
         {{{"from", "human"}, {"value", "Name a colour."}}, {{"from", "gpt"}, {"value", "Red."}}}}};
    const std::string data = g_dir->filePath("late_image.jsonl");
    writeFile(data, twoTurns.dump() + "\n" + textOnly.dump() + "\n");
    const std::string imageOnly = g_dir->filePath("late_image_only.jsonl");
    writeFile(imageOnly, twoTurns.dump() + "\n");

    const CalibrationSet whole = loadCalibrationSet(files, calibrationOn(data), &kCpuFloat32);
    COMPARE(whole.images, int64_t(1));
    const std::vector<int64_t> &ids = whole.sequences[0];
    const int64_t lastImageToken =
        int64_t(std::find(ids.rbegin(), ids.rend(), files.config.imageTokenId).base() - ids.begin()) - 1;
    VERIFY(lastImageToken > 0);

    // Up to the last image token but not it: the first answer fits, the image does not.
    const CalibrationSet cut = loadCalibrationSet(files, calibrationOn(data, lastImageToken), &kCpuFloat32);
    COMPARE(cut.images, int64_t(0));
    COMPARE(int(cut.sequences.size()), 1);
    COMPARE(cut.recordNumbers.front(), int64_t(2));
    const CalibrationSet fits =
        loadCalibrationSet(files, calibrationOn(data, lastImageToken + 1), &kCpuFloat32);
    COMPARE(fits.images, int64_t(1));
    try {
        loadCalibrationSet(files, calibrationOn(imageOnly, lastImageToken), &kCpuFloat32);
        FAIL("a record whose image max_length cuts was calibrated on");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "images cut by max_length") &&
                    contains(error.what(), "raise max_length"),
                error.what());
    }
}

// The emulator of an InternVL model is its language model's, readable as a text model; its manifest
// counts the calibration images and says the tower stays the source's.
TEST_CASE(emulatorOfTheLanguageModel)
{
    const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath("internlm2_original"));
    EmulatorOptions options;
    options.calibration = calibrationOn(shippedImages());
    options.ratio = 0.5;
    options.outputPath = g_dir->filePath("internlm2_emulator");
    Feedback feedback;
    const EmulatorBuildResult result = buildEmulator(files, options, feedback);
    COMPARE(result.manifest["vision_tower"].get<std::string>(), std::string("the source's, not compressed"));
    COMPARE(result.manifest["calibration"]["images"].get<int64_t>(),
            int64_t(g_summary["_internvl_jsonl_tiles"].size()));
    VERIFY(result.manifest["calibration"]["image_tokens"].get<int64_t>() > 0);
    const ModelFiles emulator = openModel(options.outputPath);
    COMPARE(emulator.config.numLayers, files.config.language.numLayers);
    VERIFY(result.emulatorParameters < result.originalParameters);

    // Stage 2 finds the source's tower through the manifest; a source gone is an error saying what to do.
    const std::optional<VisionLanguageFiles> source = visionSourceOfEmulator(options.outputPath);
    VERIFY(source.has_value());
    COMPARE(source->path, files.path);
    VERIFY(!visionSourceOfEmulator(g_dir->filePath("internlm2_original")).has_value()); // not an emulator
    nlohmann::json changed = result.manifest;
    changed["source"]["fingerprint"] = "0123";
    writeFile(options.outputPath + "/emulator.json", changed.dump(2));
    try {
        visionSourceOfEmulator(options.outputPath);
        FAIL("an emulator whose source changed since its build was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "changed since this emulator was built"), error.what());
    }
    nlohmann::json moved = result.manifest;
    moved["source"]["path"] = g_dir->filePath("moved_away");
    writeFile(options.outputPath + "/emulator.json", moved.dump(2));
    try {
        visionSourceOfEmulator(options.outputPath);
        FAIL("an emulator whose vision-language source is gone was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "emulator.json") && contains(error.what(), "moved_away") &&
                    contains(error.what(), "build the emulator again"),
                error.what());
    }
}

// The summed loss of a padded batch of the shipped records, images spliced in by the training path,
// equals the sum of the model's own per-record losses from its logits (the images read as `generate`
// reads them).
TEST_CASE(trainingLossIsTheModelsOwn)
{
    torch::NoGradGuard noGrad;
    const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath("internlm2_hf"));
    LoraTrainingData data;
    data.path = shippedImages();
    data.prepare.images = datasetImageTokens(files, data.path);
    Feedback feedback;
    const DatasetSplit split = prepareTrainingSplit(data, openModelText(files.language), 0, feedback);
    COMPARE(int(split.train.size()), 4);

    CausalLM language(files.language);
    const ImageInputs images(files, kCpuFloat32);
    const Batch batch = collateBatch(split.train, {{0}, {1}, {2}, {3}}, BatchOptions{});
    COMPARE(int(batch.images.size()), int(g_summary["_internvl_jsonl_tiles"].size()));
    const LossSum ours = batchLossSum(language, batch, nullptr, false, nullptr, &images);

    VisionLanguageModel model(files);
    double expected = 0;
    int64_t tokens = 0;
    for (const TokenizedExample &example : split.train) {
        const int64_t length = int64_t(example.inputIds.size());
        const torch::Tensor ids = torch::tensor(example.inputIds, torch::kInt64).view({1, length});
        const PromptImages prompt = loadPromptImages(example.images, files.tiling);
        const torch::Tensor logits = model.forward(ids, prompt.pixelValues).squeeze(0).to(torch::kFloat64);
        const torch::Tensor labels = torch::tensor(example.labels, torch::kInt64);
        const torch::Tensor trained = labels.narrow(0, 1, length - 1) != kIgnoreLabel;
        const torch::Tensor logProbabilities = torch::log_softmax(logits.narrow(0, 0, length - 1), -1);
        expected -= logProbabilities.index({trained})
                        .gather(1, labels.narrow(0, 1, length - 1).index({trained}).unsqueeze(1))
                        .sum()
                        .item<double>();
        tokens += trained.sum().item<int64_t>();
    }
    COMPARE(ours.tokens, tokens);
    const double difference = std::abs(ours.sum.item<double>() - expected);
    info(format("batch loss sum %.6f, the model's own %.6f", ours.sum.item<double>(), expected));
    VERIFY2(difference < 1e-4 * std::max(1.0, std::abs(expected)), str(difference));
}

// Stage 3's adapter for an InternVL model is written under the checkpoint's names: peft loads the -hf
// one onto transformers' InternVLForConditionalGeneration (LoRA on the language model's projections
// only, not the tower's of the same names) and gives our merged logits; the original layout's names are
// its checkpoint's.
TEST_CASE(adapterForTheCheckpointLoadsInPeft)
{
    torch::NoGradGuard noGrad;
    const VisionLanguageFiles hf = openVisionLanguageModel(g_dir->filePath("qwen2_hf"));
    const PeftAdapter adapter = randomLanguageAdapter(hf, 7);
    const PeftAdapter renamed = toInternVLAdapter(adapter, hf.config);
    COMPARE(renamed.modules.front().module, std::string("model.language_model.layers.0.self_attn.q_proj"));
    const std::string folder = g_dir->filePath("peft_adapter_hf");
    PeftWriteOptions write;
    write.targetModules = internVLTargetModules(renamed);
    writePeftAdapter(renamed, folder, write);

    const std::string peftLogits = g_dir->filePath("peft_logits.safetensors");
    const auto result = runPythonScript("internvl_peft_logits.py", {hf.path, folder, peftLogits}, 600000);
    VERIFY2(result.exitCode == 0, result.err);
    const nlohmann::json adapted = nlohmann::json::parse(lastLine(result.out))["lora_modules"];
    COMPARE(int(adapted.size()), int(adapter.modules.size()));
    for (const nlohmann::json &name : adapted)
        VERIFY2(contains(name.get<std::string>(), "model.language_model.layers."), name.dump());

    SafetensorsFile reference(hf.path + "/reference.safetensors");
    const torch::Tensor ids = reference.tensor("input_ids");
    const torch::Tensor pixels = reference.tensor("pixel_values");
    VisionLanguageFiles merged = hf;
    mergeInternVLAdapterFolder(merged, folder);
    const torch::Tensor ours = VisionLanguageModel(merged).forward(ids, pixels);
    const torch::Tensor theirs = SafetensorsFile(peftLogits).tensor("logits");
    const double difference = (ours - theirs).abs().max().item<double>();
    const double moved = (theirs - reference.tensor("logits")).abs().max().item<double>();
    info(format("peft against ours: max |logit diff| %.3g; the adapter moves the logits by %.3g", difference,
                moved));
    VERIFY2(difference < 1e-4, str(difference));
    VERIFY2(moved > 1e-2, str(moved));

    // The original layout: the same adapter under its checkpoint's names, giving the same logits.
    const VisionLanguageFiles original = openVisionLanguageModel(g_dir->filePath("qwen2_original"));
    const PeftAdapter forOriginal = toInternVLAdapter(adapter, original.config);
    const auto checkpoint = openSafetensorsWeights(original.path);
    for (const PeftLoraModule &module : forOriginal.modules)
        VERIFY2(checkpoint->contains(module.module + ".weight"), module.module);
    writePeftAdapter(forOriginal, g_dir->filePath("peft_adapter_original"));
    VisionLanguageFiles mergedOriginal = original;
    mergeInternVLAdapterFolder(mergedOriginal, g_dir->filePath("peft_adapter_original"));
    COMPARE((VisionLanguageModel(mergedOriginal).forward(ids, pixels) - ours).abs().max().item<double>(),
            0.0);
}

// An original InternLM2 checkpoint fuses q, k and v into one wqkv. Its adapter is one LoRA on wqkv (A
// stacked, B in wqkv's rows) and InternLM2's names for the other projections: peft places it on exactly those
// and, merged, it equals transformers' -hf model with the same adapter apart, carried into the original
// layout by the fixture script's own conversion. Read back, it is the adapter it came from, at its own ranks.
TEST_CASE(fusedInternLM2AdapterIsPeftsOwn)
{
    const VisionLanguageFiles hf = openVisionLanguageModel(g_dir->filePath("internlm2_hf"));
    const VisionLanguageFiles original = openVisionLanguageModel(g_dir->filePath("internlm2_original"));
    const PeftAdapter adapter = randomLanguageAdapter(hf, 11);
    const auto write = [&](const PeftAdapter &renamed, const std::string &name) {
        PeftWriteOptions options;
        options.targetModules = internVLTargetModules(renamed);
        writePeftAdapter(renamed, g_dir->filePath(name), options);
        return g_dir->filePath(name);
    };
    const std::string apart = write(toInternVLAdapter(adapter, hf.config), "internlm2_apart");
    const PeftAdapter fused = toInternVLAdapter(adapter, original.config);
    COMPARE(int(fused.modules.size()), int(5 * original.config.language.numLayers));
    COMPARE(fused.modules.front().module, std::string("language_model.model.layers.0.attention.wqkv"));
    COMPARE(fused.modules.front().a.size(0), int64_t(12)); // q, k and v at rank 4 each
    const auto checkpoint = openSafetensorsWeights(original.path);
    for (const PeftLoraModule &module : fused.modules)
        VERIFY2(checkpoint->contains(module.module + ".weight"), module.module);
    const std::string fusedFolder = write(fused, "internlm2_fused");

    const auto result =
        runPythonScript("internlm2_fused_peft.py", {hf.path, original.path, apart, fusedFolder}, 600000);
    VERIFY2(result.exitCode == 0, result.err);
    const nlohmann::json summary = nlohmann::json::parse(lastLine(result.out));
    COMPARE(int(summary["lora_modules"].size()), int(fused.modules.size()));
    for (const nlohmann::json &name : summary["lora_modules"])
        VERIFY2(contains(name.get<std::string>(), "language_model.model.layers."), name.dump());
    info(format(
        "peft's merge of the fused adapter against the -hf model's, in the original layout: max |diff| "
        "%.3g (the adapter moves the weights by %.3g)",
        summary["max_difference"].get<double>(), summary["moved"].get<double>()));
    VERIFY2(summary["max_difference"].get<double>() < 1e-5, summary.dump());
    VERIFY2(summary["moved"].get<double>() > 1e-2, summary.dump());

    // Merged into the checkpoint in its own layout (wqkv rebuilt from the merged q, k and v): its own loader
    // reads the model the adapter makes.
    ExportOptions merge;
    merge.modelPath = original.path;
    merge.adapterPath = fusedFolder;
    merge.format = ExportFormat::Merged;
    merge.outPath = g_dir->filePath("internlm2_merged");
    runExport(merge);
    SafetensorsFile reference(original.path + "/reference.safetensors");
    const torch::Tensor ids = reference.tensor("input_ids"), pixels = reference.tensor("pixel_values");
    VisionLanguageFiles withAdapter = original;
    mergeInternVLAdapterFolder(withAdapter, fusedFolder);
    torch::NoGradGuard noGrad;
    const torch::Tensor expected = VisionLanguageModel(withAdapter).forward(ids, pixels);
    const torch::Tensor got =
        VisionLanguageModel(openVisionLanguageModel(merge.outPath)).forward(ids, pixels);
    VERIFY2((got - expected).abs().max().item<double>() < 1e-5,
            str((got - expected).abs().max().item<double>()));
    VERIFY((expected - reference.tensor("logits")).abs().max().item<double>() > 1e-2);

    // Read back for the engine: the same modules at rank 4 and the same deltas.
    const PeftAdapter back = toLanguageModelAdapter(readPeftAdapter(fusedFolder), original.config);
    COMPARE(int(back.modules.size()), int(adapter.modules.size()));
    for (const PeftLoraModule &module : adapter.modules) {
        const PeftLoraModule *found = back.find(module.module);
        VERIFY2(found && found->a.size(0) == 4, module.module);
        const torch::Tensor want = module.b.matmul(module.a) * adapter.scaleFor(module.module);
        const torch::Tensor got = found->b.matmul(found->a) * back.scaleFor(module.module);
        VERIFY2((want - got).abs().max().item<double>() < 1e-5, module.module);
    }
}

// Stage 1 with the tower compressed: each tower linear's recorded error is ||(W - Wu Wv) X^T||_F on the
// original tower's activations X of the samples' tiles and equals the Eckart-Young optimum of W X^T at the
// rule's rank (float64). The language model's emulator is the dense-tower build's (to float64 rounding):
// its calibration sees the original tower. The later stages read the compressed tower through the manifest,
// and its image rows are those of the tower with the composed factors as weights. The planner counts the
// emulator's tower exactly.
TEST_CASE(compressedTowerIsTheActivationAwareOptimum)
{
    const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath("qwen2_hf"));
    auto optionsFor = [&](const std::string &folder, double visionRatio) {
        EmulatorOptions options;
        options.calibration = calibrationOn(shippedImages());
        options.ratio = 0.5;
        options.visionRatio = visionRatio;
        options.computeDtype = "fp64";
        options.outputDtype = "fp64";
        options.gramFloat64 = true;
        options.outputPath = g_dir->filePath(folder);
        return options;
    };
    Feedback feedback;
    const EmulatorBuildResult built = buildEmulator(files, optionsFor("tower_emulator", 0.5), feedback);
    const nlohmann::json &tower = built.manifest["vision_tower"];
    COMPARE(tower["kind"].get<std::string>(), std::string("compressed"));
    COMPARE(tower["clamped_eigenvalues"].get<int64_t>(), int64_t(0));
    const int64_t layers = files.config.vision.usedLayers;
    COMPARE(int64_t(tower["modules"].size()), layers * 6);
    VERIFY(built.imageEncodingPeakBytes > 0 && built.peakMemoryBytes >= built.imageEncodingPeakBytes);

    // The original tower's input to every linear, on the samples' tiles.
    torch::NoGradGuard noGrad;
    const CalibrationSet set = loadCalibrationSet(files, calibrationOn(shippedImages()), nullptr);
    const InternVisionTower original(files.config, *files.weights, kCpuFloat64);
    std::map<std::string, std::vector<torch::Tensor>> inputs;
    const LinearInputObserver observe = [&](const std::vector<std::string> &names,
                                            const torch::Tensor &rows) {
        for (const std::string &name : names)
            inputs[name].push_back(rows.clone());
    };
    torch::Tensor hidden = original.embedTiles(calibrationTiles(files, set).to(torch::kFloat64));
    COMPARE(tower["calibration_tiles"].get<int64_t>(), hidden.size(0));
    for (int64_t index = 0; index < layers; ++index)
        hidden = original.runLayer(index, hidden, observe);
    const std::string factorsPath = g_dir->filePath("tower_emulator") + "/vision_tower.safetensors";
    SafetensorsFile factors(factorsPath);
    int64_t kept = 0;
    for (const auto &[name, record] : tower["modules"].items()) {
        Row row(name);
        COMPARE(record["kind"].get<std::string>(), std::string("low_rank"));
        const int64_t out = record["out"].get<int64_t>(), in = record["in"].get<int64_t>();
        const int64_t rank = record["rank"].get<int64_t>();
        COMPARE(rank, rankForRatio(0.5, out, in));
        kept += rank * (out + in);
        const torch::Tensor weight = files.weights->tensor(name + ".weight").to(torch::kFloat64);
        const torch::Tensor x = torch::cat(inputs.at(name), 0);
        const torch::Tensor composed =
            factors.tensor(name + ".weight_u").matmul(factors.tensor(name + ".weight_v"));
        const double measured = (weight - composed).matmul(x.t()).norm().item<double>();
        const double recorded = record["whitened_error"].get<double>();
        VERIFY2(std::abs(recorded - measured) <= 1e-8 * measured,
                emloc::test::str("recorded ", recorded, ", measured ", measured));
        const torch::Tensor s = torch::linalg_svdvals(weight.matmul(x.t()));
        const double optimum = s.slice(0, rank).square().sum().sqrt().item<double>();
        VERIFY2(std::abs(recorded - optimum) <= 1e-8 * optimum,
                emloc::test::str("recorded ", recorded, ", optimum ", optimum));
    }
    COMPARE(tower["parameters"].get<int64_t>(), kept);

    // The language model's emulator is the one a dense-tower build makes.
    buildEmulator(files, optionsFor("tower_dense", 0), feedback);
    const SafetensorsFile withTower(g_dir->filePath("tower_emulator") + "/model.safetensors");
    const SafetensorsFile withoutTower(g_dir->filePath("tower_dense") + "/model.safetensors");
    COMPARE(withTower.names(), withoutTower.names());
    for (const std::string &name : withTower.names()) {
        if (name.size() > 9 && name.compare(name.size() - 9, 9, ".weight_v") == 0)
            continue; // compared with its weight_u below: the factors' product, free of SVD's signs
        torch::Tensor a = withTower.tensor(name), b = withoutTower.tensor(name);
        if (name.size() > 9 && name.compare(name.size() - 9, 9, ".weight_u") == 0) {
            const std::string down = name.substr(0, name.size() - 9) + ".weight_v";
            a = a.matmul(withTower.tensor(down));
            b = b.matmul(withoutTower.tensor(down));
        }
        // The same rows, batched differently (a sample's tiles together, not image by image): float64
        // rounding apart.
        VERIFY2(largestDifference(a, b) <= 1e-9 * b.abs().max().item<double>(),
                emloc::test::str(name, ": ", largestDifference(a, b)));
    }

    // Stages 2 and the evaluation see the images through the compressed tower.
    const std::optional<VisionLanguageFiles> emulated =
        visionSourceOfEmulator(g_dir->filePath("tower_emulator"));
    VERIFY(emulated.has_value());
    VisionLanguageFiles reference = files;
    reference.weights = std::make_shared<ComposedTowerWeights>(files.weights, factorsPath);
    const std::vector<std::string> &images = set.imageSources[1];
    VERIFY(!images.empty());
    const torch::Tensor rows = ImageRowEncoder(*emulated, kCpuFloat64).rows(images, "record 2");
    const torch::Tensor expected = ImageRowEncoder(reference, kCpuFloat64).rows(images, "record 2");
    const torch::Tensor dense = ImageRowEncoder(files, kCpuFloat64).rows(images, "record 2");
    VERIFY2(largestDifference(rows, expected) < 1e-10, emloc::test::str(largestDifference(rows, expected)));
    VERIFY(largestDifference(rows, dense) > 1e-4); // compressed indeed

    // The planner's emulator tower is the build's.
    PlanSettings plan;
    addVisionToPlan(plan, files, 0.5);
    COMPARE(plan.visionEmulatorParameters,
            plan.visionParameters -
                (tower["linear_parameters"].get<int64_t>() - tower["parameters"].get<int64_t>()));

    // Nothing to calibrate the tower on: said, and nothing written.
    const std::string textOnly = g_dir->filePath("text_only.jsonl");
    writeFile(textOnly, "{\"conversations\": [{\"from\": \"human\", \"value\": \"Hi?\"}, "
                        "{\"from\": \"gpt\", \"value\": \"Hello.\"}]}\n");
    EmulatorOptions noImages = optionsFor("tower_no_images", 0.5);
    noImages.calibration = calibrationOn(textOnly);
    try {
        buildEmulator(files, noImages, feedback);
        FAIL("a tower compressed on no images was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "hold none") && contains(error.what(), "text_only.jsonl"),
                error.what());
    }
    VERIFY(!std::filesystem::exists(noImages.outputPath));
    // A text model has no tower.
    EmulatorOptions textModel = optionsFor("text_tower", 0.5);
    try {
        buildEmulator(files.language, textModel, feedback);
        FAIL("a vision ratio for a text model was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "vision_ratio") && contains(error.what(), "text model"), error.what());
    }
}

// The planner counts the tower and projector in inference and every training stage (and in stage 1,
// where they run first): their parameters are the checkpoint's, and a plan with them exceeds the
// language model's by at least their weights.
TEST_CASE(plannerCountsTheVisionTower)
{
    const VisionLanguageFiles files = openVisionLanguageModel(g_dir->filePath("internlm2_hf"));
    PlanSettings text;
    PlanSettings vision = text;
    addVisionToPlan(vision, files);
    const VisionParameterCounts counts = countVisionParameters(*files.weights);
    COMPARE(vision.visionParameters, counts.tower + counts.projector);
    VERIFY(vision.visionActivationValues > 0);
    const ModelConfig config = plannableConfig(files.language.config);
    const MemoryPlan without = planMemory(config, text, 0.5);
    const MemoryPlan with = planMemory(config, vision, 0.5);
    const int64_t weights = vision.visionParameters * valueBytesOf(vision);
    for (const auto &[name, before, after] :
         {std::tuple{"inference", &without.inference, &with.inference},
          std::tuple{"fine-tuning", &without.fineTuning, &with.fineTuning},
          std::tuple{"full LoRA", &without.fullLora, &with.fullLora}}) {
        Row row(name);
        COMPARE(after->totalBytes() - before->totalBytes(),
                weights + vision.visionActivationValues * valueBytesOf(vision));
    }
    VERIFY(with.construction.totalBytes() >= without.construction.totalBytes());
    // A compressed tower: fine-tuning holds the emulator's, inference and full LoRA the original's, and
    // stage 1 adds the compression's Grams.
    PlanSettings compressed = text;
    addVisionToPlan(compressed, files, 0.5);
    VERIFY(compressed.visionEmulatorParameters > 0 &&
           compressed.visionEmulatorParameters < compressed.visionParameters);
    VERIFY(compressed.visionCompressionBytes > 0);
    const MemoryPlan smaller = planMemory(config, compressed, 0.5);
    COMPARE(with.fineTuning.totalBytes() - smaller.fineTuning.totalBytes(),
            (compressed.visionParameters - compressed.visionEmulatorParameters) * valueBytesOf(compressed));
    COMPARE(smaller.inference.totalBytes(), with.inference.totalBytes());
    COMPARE(smaller.fullLora.totalBytes(), with.fullLora.totalBytes());
    VERIFY(smaller.construction.totalBytes() >= with.construction.totalBytes());
    // A tower larger than anything else in stage 1 is its peak.
    PlanSettings huge = vision;
    huge.visionParameters = int64_t(1) << 32;
    COMPARE(planMemory(config, huge, 0.5).construction.items.front().name,
            std::string("vision tower and projector"));
}
