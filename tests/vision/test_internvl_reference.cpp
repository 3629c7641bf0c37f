// InternVL against transformers (tests/reference/internvl_make_fixtures.py): random-weight models with a
// Qwen2 and an InternLM2-style (Llama decoder, fused wqkv) language model, each in the -hf layout that
// transformers saves and in the original InternVLChatModel layout. Logits of a prompt with two images
// (a 3-tile and a 1-tile one), of one image, of text alone, and greedy generations must agree; the two
// layouts must give the same tensors under one naming.
#include "emloc/api/error.h"
#include "emloc/io/safetensors.h"
#include "emloc/util/torch_runtime.h"
#include "emloc/vision/vision_language_model.h"

#include "internvl_fixtures.h"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace emloc::core;
using namespace emloc::test;

namespace {
// Both sides compute in float32 with different operation orders (and attention kernels); logits are O(1).
constexpr double kLogitTolerance = 1e-4;

const char *const kVariants[] = {"qwen2", "internlm2", "qwen2_interpolated"};
const char *const kLayouts[] = {"_hf", "_original"};

TempDir *g_dir = nullptr;
nlohmann::json g_summary;

double maxDifference(const torch::Tensor &ours, const torch::Tensor &theirs)
{
    if (ours.sizes() != theirs.sizes())
        return 1e30;
    return (ours.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>();
}
// Every fixture folder: each variant in each layout, with the variant's facts from the summary.
struct Fixture
{
    std::string name;
    std::string variant;
    std::string folder;
};
std::vector<Fixture> allFixtures()
{
    std::vector<Fixture> fixtures;
    for (const std::string variant : kVariants)
        for (const std::string layout : kLayouts)
            fixtures.push_back({variant + layout, variant, g_dir->filePath(variant + layout)});
    return fixtures;
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
    makeInternVLFixtures();
    g_dir = internVLFixtures().dir.get();
    g_summary = internVLFixtures().summary;
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
    for (const Fixture &fixture : allFixtures()) {
        Row row(fixture.name);
        VisionLanguageModel model(openVisionLanguageModel(fixture.folder));
        SafetensorsFile reference(fixture.folder + "/reference.safetensors");
        const torch::Tensor pixels = reference.tensor("pixel_values");
        const torch::Tensor ids = reference.tensor("input_ids");

        const double both = maxDifference(model.forward(ids, pixels), reference.tensor("logits"));
        // The first image alone: its prompt ends after the image's closing tag and one more token.
        const int64_t perTile = g_summary[fixture.variant]["tokens_per_tile"].get<int64_t>();
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
        info(format("%s: max |logit diff| two images %.3g, one image %.3g, text %.3g", fixture.name.c_str(),
                    both, single, text));
        VERIFY2(both < kLogitTolerance, str(both));
        VERIFY2(single < kLogitTolerance, str(single));
        VERIFY2(text < kLogitTolerance, str(text));
    }
}

TEST_CASE(greedyGenerationMatchesTransformers)
{
    for (const Fixture &fixture : allFixtures()) {
        Row row(fixture.name);
        VisionLanguageModel model(openVisionLanguageModel(fixture.folder));
        SafetensorsFile reference(fixture.folder + "/reference.safetensors");
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
