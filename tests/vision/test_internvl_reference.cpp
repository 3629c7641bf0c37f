// InternVL against transformers (tests/reference/internvl_make_fixtures.py): random-weight models with a
// Qwen2 and an InternLM2-style (Llama decoder, fused wqkv) language model, each in the -hf layout that
// transformers saves and in the original InternVLChatModel layout. Logits of a prompt with two images
// (a 3-tile and a 1-tile one), of one image, of text alone, and greedy generations must agree; the two
// layouts must give the same tensors under one naming.
#include "emloc/api/error.h"
#include "emloc/io/safetensors.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/vision_language_model.h"

#include "child_process.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace emloc::core;
using namespace emloc::test;

namespace {
// Both sides compute in float32 with different operation orders (and attention kernels); logits are O(1).
constexpr double kLogitTolerance = 1e-4;

const char *const kVariants[] = {"qwen2", "internlm2", "qwen2_interpolated"};
const char *const kLayouts[] = {"_hf", "_original"};

std::unique_ptr<TempDir> g_dir;
nlohmann::json g_summary;

double maxDifference(const torch::Tensor &ours, const torch::Tensor &theirs)
{
    if (ours.sizes() != theirs.sizes())
        return 1e30;
    return (ours.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>();
}
// A [1, n] row of token ids.
torch::Tensor ids1d(const std::vector<int64_t> &ids)
{
    return torch::tensor(ids, torch::kInt64).unsqueeze(0);
}
} // namespace

SUITE_SETUP()
{
    configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
    g_dir = std::make_unique<TempDir>();
    const auto result = runPythonScript("internvl_make_fixtures.py", {g_dir->path()}, 600000);
    VERIFY2(result.exitCode == 0, result.err);
    g_summary = nlohmann::json::parse(lastLine(result.out));
    COMPARE(int(g_summary.size()), 4); // the three models and the shipped dataset's tiles
}

TEST_CASE(configsOfBothLayoutsAgree)
{
    for (const std::string variant : kVariants) {
        Row row(variant);
        const VisionLanguageFiles hf = openVisionLanguageModel(g_dir->filePath(variant + "_hf"));
        const VisionLanguageFiles original = openVisionLanguageModel(g_dir->filePath(variant + "_original"));
        COMPARE(hf.config.layout, std::string("hf"));
        COMPARE(original.config.layout, std::string("original"));
        COMPARE(original.config.languageFamily, g_summary[variant]["family"].get<std::string>());
        const int64_t imageToken = g_summary[variant]["image_token"].get<int64_t>();
        COMPARE(hf.config.imageTokenId, imageToken);
        COMPARE(original.config.imageTokenId, imageToken); // from the tokenizer's <IMG_CONTEXT>
        COMPARE(original.config.vision.usedLayers, hf.config.vision.usedLayers);
        COMPARE(original.config.vision.qkNorm, hf.config.vision.qkNorm);
        COMPARE(original.config.vision.normType, hf.config.vision.normType);
        COMPARE(original.config.vision.positionGrid, hf.config.vision.positionGrid);
        COMPARE(original.config.language.numHeads, hf.config.language.numHeads);
        COMPARE(original.config.language.numKeyValueHeads, hf.config.language.numKeyValueHeads);
        COMPARE(original.config.language.ropeTheta, hf.config.language.ropeTheta);
        COMPARE(original.tiling.tileSize, int64_t(56));
        COMPARE(hf.tiling.tileSize, int64_t(56)); // the processor's size, not the tower's image_size
        COMPARE(hf.tiling.maxTiles, int64_t(6));
        COMPARE(original.config.tokensPerTile(original.tiling.tileSize),
                g_summary[variant]["tokens_per_tile"].get<int64_t>());
    }
}

// The split of the fused qkv (InternViT) and wqkv (InternLM2) and every rename, checked tensor by tensor
// against the -hf layout, which stores each tensor under its own name.
TEST_CASE(layoutsGiveTheSameTensors)
{
    for (const std::string variant : kVariants) {
        Row row(variant);
        const VisionLanguageFiles hf = openVisionLanguageModel(g_dir->filePath(variant + "_hf"));
        const VisionLanguageFiles original = openVisionLanguageModel(g_dir->filePath(variant + "_original"));
        std::vector<std::string> names = hf.weights->names();
        std::vector<std::string> others = original.weights->names();
        std::sort(names.begin(), names.end());
        std::sort(others.begin(), others.end());
        COMPARE(joined(others, " "), joined(names, " "));
        for (const std::string &name : names) {
            const torch::Tensor ours = original.weights->tensor(name);
            VERIFY2(original.weights->shape(name) == ours.sizes().vec(), name);
            VERIFY2(torch::equal(ours, hf.weights->tensor(name)), name);
        }
        // The language model's view holds its tensors alone.
        for (const std::string &name : original.language.weights->names())
            VERIFY2(startsWith(name, "model.") || name == "lm_head.weight", name);
        COMPARE(int(original.language.weights->names().size()),
                int(std::count_if(names.begin(), names.end(), [](const std::string &name) {
                    return startsWith(name, "model.") || name == "lm_head.weight";
                })));
    }
}

TEST_CASE(logitsMatchTransformers)
{
    torch::NoGradGuard noGrad;
    for (const std::string variant : kVariants)
        for (const std::string layout : kLayouts) {
            Row row(variant + layout);
            const std::string folder = g_dir->filePath(variant + layout);
            VisionLanguageModel model(openVisionLanguageModel(folder));
            SafetensorsFile reference(folder + "/reference.safetensors");
            const torch::Tensor pixels = reference.tensor("pixel_values");
            const torch::Tensor ids = reference.tensor("input_ids");

            const double both = maxDifference(model.forward(ids, pixels), reference.tensor("logits"));
            // The first image alone: its prompt ends after the image's closing tag and one more token.
            const int64_t perTile = g_summary[variant]["tokens_per_tile"].get<int64_t>();
            const int64_t singleLength = 3 + 2 + 3 * perTile;
            torch::Tensor singleIds = torch::cat({ids.narrow(1, 0, singleLength), ids1d({70})}, 1);
            const double single = maxDifference(model.forward(singleIds, pixels.narrow(0, 0, 3)),
                                                reference.tensor("single_logits"));
            const double text =
                maxDifference(model.forward(ids1d({1, 5, 9, 13, 200})), reference.tensor("text_logits"));
            // The images must matter: other pixels give other logits.
            const double otherPixels =
                maxDifference(model.forward(ids, pixels.flip(0)), reference.tensor("logits"));
            VERIFY2(otherPixels > 1e-3, str(otherPixels));
            info(format("%s%s: max |logit diff| two images %.3g, one image %.3g, text %.3g", variant.c_str(),
                        layout.c_str(), both, single, text));
            VERIFY2(both < kLogitTolerance, str(both));
            VERIFY2(single < kLogitTolerance, str(single));
            VERIFY2(text < kLogitTolerance, str(text));
        }
}

TEST_CASE(greedyGenerationMatchesTransformers)
{
    for (const std::string variant : kVariants)
        for (const std::string layout : kLayouts) {
            Row row(variant + layout);
            const std::string folder = g_dir->filePath(variant + layout);
            VisionLanguageModel model(openVisionLanguageModel(folder));
            SafetensorsFile reference(folder + "/reference.safetensors");
            const torch::Tensor ids = reference.tensor("input_ids");
            const std::vector<int64_t> prompt(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
            const torch::Tensor expected = reference.tensor("generated");
            GenerationOptions options;
            options.maxNewTokens = expected.numel();
            const GenerationResult result = model.generate(prompt, reference.tensor("pixel_values"), options);
            const std::vector<int64_t> wanted(expected.data_ptr<int64_t>(),
                                              expected.data_ptr<int64_t>() + expected.numel());
            COMPARE(nlohmann::json(result.tokens).dump(), nlohmann::json(wanted).dump());
        }
}

TEST_CASE(imageTokenCountMismatchIsRefused)
{
    const std::string folder = g_dir->filePath("qwen2_hf");
    VisionLanguageModel model(openVisionLanguageModel(folder));
    SafetensorsFile reference(folder + "/reference.safetensors");
    const torch::Tensor pixels = reference.tensor("pixel_values");
    try {
        torch::NoGradGuard noGrad;
        model.forward(reference.tensor("input_ids"), pixels.narrow(0, 0, 3)); // 3 tiles for 4 tiles' tokens
        FAIL("a prompt with more image tokens than its images give was accepted");
    } catch (const emloc::core::Error &error) {
        VERIFY2(contains(error.what(), "16 image tokens but its images give 12"), error.what());
    }
}

TEST_CASE(infoDescribesTheVisionParts)
{
    const auto result = runCli({"--json", "info", g_dir->filePath("internlm2_original")});
    VERIFY2(result.exitCode == 0, describe(result));
    const nlohmann::json info = nlohmann::json::parse(result.out);
    const nlohmann::json &vision = info["vision"];
    COMPARE(vision["layout"].get<std::string>(), std::string("original"));
    COMPARE(vision["language_model"].get<std::string>(), std::string("internlm2"));
    COMPARE(vision["tokens_per_tile"].get<int64_t>(), int64_t(4));
    COMPARE(vision["image_token_id"].get<int64_t>(), g_summary["internlm2"]["image_token"].get<int64_t>());
    COMPARE(vision["tile_size"].get<int64_t>(), int64_t(56));
    // Per layer: q, k, v with biases, their RMS norms, the output projection, the MLP 32 -> 64 -> 32,
    // two RMS norms and two layer scales; then the patch embedding, the class token and 4 x 4 + 1
    // positions. The projector: its LayerNorm over 128, then 128 -> 48 -> 48.
    const int64_t layer =
        3 * (32 * 32 + 32) + 2 * 32 + (32 * 32 + 32) + (64 * 32 + 64) + (32 * 64 + 32) + 2 * 32 + 2 * 32;
    const int64_t tower = 3 * layer + (32 * 3 * 14 * 14 + 32) + 32 + 17 * 32;
    const int64_t projector = 2 * 128 + 128 * 48 + 48 + 48 * 48 + 48;
    COMPARE(vision["parameters"]["projector"].get<int64_t>(), projector);
    COMPARE(vision["parameters"]["tower"].get<int64_t>(), tower);
    COMPARE(info["architecture"].get<std::string>(), std::string("llama")); // InternLM2 runs as Llama
    COMPARE(info["parameters"]["other"].get<int64_t>(), int64_t(0));        // the tower is not "other"
}

// `emloc generate --image` end to end against transformers: the images decoded and tiled, the prompt
// rendered by the chat template with its placeholders expanded after it, tokenized, and continued; the
// prompt's ids and the new tokens must be transformers' own.
TEST_CASE(generateWithImagesMatchesTransformers)
{
    for (const std::string layout : kLayouts) {
        const std::string folder = g_dir->filePath("internlm2" + layout);
        const nlohmann::json cases = nlohmann::json::parse(readFile(folder + "/image_generation.json"));
        for (const nlohmann::json &expected : cases) {
            Row row(layout + " " + expected["name"].get<std::string>());
            std::vector<std::string> args = {
                "--json",           "generate", folder, "--prompt", expected["prompt"].get<std::string>(),
                "--max-new-tokens", "8"};
            for (const nlohmann::json &file : expected["files"])
                args.insert(args.end(), {"--image", g_dir->filePath(file.get<std::string>())});
            if (expected["chat"].get<bool>())
                args.push_back("--chat");
            const auto result = runCli(args);
            VERIFY2(result.exitCode == 0, describe(result));
            const nlohmann::json answer = nlohmann::json::parse(result.out);
            COMPARE(answer["prompt_tokens"].get<int64_t>(), int64_t(expected["prompt_ids"].size()));
            COMPARE(answer["new_tokens"].dump(), expected["new_tokens"].dump());
            std::vector<int64_t> tiles;
            for (const nlohmann::json &image : answer["images"])
                tiles.push_back(image["tiles"].get<int64_t>());
            COMPARE(nlohmann::json(tiles).dump(), expected["tiles"].dump());
        }
    }
}

TEST_CASE(generateRefusesImagesItCannotPlace)
{
    const std::string folder = g_dir->filePath("qwen2_hf");
    const std::string image = g_dir->filePath("wide.png");
    auto result = runCli({"generate", folder, "--prompt", "<image> and <image>", "--image", image});
    VERIFY2(result.exitCode != 0 && contains(result.err, "2 <image> placeholder(s) but 1 image(s)"),
            describe(result));
    writeFile(g_dir->filePath("broken.png"), readFile(image).substr(0, 100));
    result = runCli({"generate", folder, "--prompt", "hi", "--image", g_dir->filePath("broken.png")});
    VERIFY2(result.exitCode != 0 && contains(result.err, "broken.png"), describe(result));
}

// `emloc data inspect` with an InternVL model: the shipped image dataset's records expanded to their
// tiles' tokens (tile counts by InternVL's published rule, computed in Python) and masked as training would.
TEST_CASE(dataInspectCountsImagesAndTiles)
{
    const auto result =
        runCli({"--json", "data", "inspect", testDataDir() + "/datasets/vision/internvl.jsonl", "--model",
                g_dir->filePath("internlm2_original")});
    VERIFY2(result.exitCode == 0, describe(result));
    const nlohmann::json stats = nlohmann::json::parse(result.out);
    int64_t tiles = 0, most = 0;
    for (const nlohmann::json &count : g_summary["_internvl_jsonl_tiles"]) {
        tiles += count.get<int64_t>();
        most = std::max(most, count.get<int64_t>());
    }
    COMPARE(stats["used"].get<int64_t>(), int64_t(4));
    COMPARE(stats["images"]["records_with_images"].get<int64_t>(), int64_t(3));
    COMPARE(stats["images"]["images"].get<int64_t>(), int64_t(g_summary["_internvl_jsonl_tiles"].size()));
    COMPARE(stats["images"]["tiles"].get<int64_t>(), tiles);
    COMPARE(stats["images"]["max_tiles_per_image"].get<int64_t>(), most);
    // Every image token is in the prompt: masked, never trained.
    std::string trained;
    for (const nlohmann::json &segment : stats["example"]["segments"])
        if (segment["trained"].get<bool>())
            trained += segment["text"].get<std::string>();
    COMPARE(trained, std::string("A red square.<|im_end|>\n"));
}
