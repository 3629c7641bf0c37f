// Datasets with images in the forms people have them: InternVL/LLaVA records ("image" with
// "conversations"), ShareGPT-style messages with "images", and OpenAI messages with image content parts
// (file paths and data: URLs). Paths resolve against the dataset's folder; placeholders are placed or
// checked; every bad record is refused naming the record and the image. Expanded for InternVL, each
// image becomes its tiles' context tokens.
#include "emloc/api/error.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_reader.h"
#include "emloc/vision/image_prompt.h"

#include "../text/fake_tokenizer.h"
#include "unit_test.h"

using namespace emloc::core;
using namespace emloc::test;

namespace {

std::string shipped(const std::string &name)
{
    return testDataDir() + "/datasets/vision/" + name;
}

std::string refusal(const std::string &jsonl)
{
    TempDir dir;
    writeFile(dir.filePath("data.jsonl"), jsonl);
    writeFile(dir.filePath("a.png"), readFile(shipped("images/red_square.png")));
    try {
        readDataset(dir.filePath("data.jsonl"));
    } catch (const Error &error) {
        return error.what();
    }
    return "(accepted)";
}

TilingSettings smallTiles()
{
    TilingSettings tiling;
    tiling.tileSize = 28;
    tiling.maxTiles = 6;
    tiling.mean = {0.5f, 0.5f, 0.5f};
    tiling.std = {0.5f, 0.5f, 0.5f};
    return tiling;
}

} // namespace

TEST_CASE(internVLRecordsReadWithTheirImages)
{
    const std::vector<DatasetRecord> records = readDataset(shipped("internvl.jsonl"));
    COMPARE(int(records.size()), 4);
    COMPARE(int(records[0].images.size()), 1);
    COMPARE(records[0].images[0], shipped("images/red_square.png")); // relative to the dataset's folder
    COMPARE(records[0].messages[0].content, std::string("<image>\nWhat shape is shown?"));
    COMPARE(int(records[1].images.size()), 2);
    VERIFY(endsWith(records[1].images[1], "/images/green_triangle.webp"));
    // No placeholder: InternVL's own goes before the question.
    COMPARE(records[2].messages[0].content, std::string("<image>\nWhat colour is the shape?"));
    VERIFY(records[3].images.empty());
}

TEST_CASE(shareGptAndOpenAIRecordsReadWithTheirImages)
{
    const std::vector<DatasetRecord> shareGpt = readDataset(shipped("sharegpt_images.json"));
    COMPARE(shareGpt[0].images[0], shipped("images/blue_circle.jpg"));
    COMPARE(shareGpt[0].messages[0].content, std::string("<image>What colour is the circle?"));

    const std::vector<DatasetRecord> openAI = readDataset(shipped("openai_images.jsonl"));
    COMPARE(openAI[0].messages[0].content, std::string("<image>\nWhat colour is the square?"));
    COMPARE(openAI[0].images[0], shipped("images/red_square.png"));
    COMPARE(openAI[1].messages[0].content, std::string("What is drawn here? <image>\n"));
    VERIFY(startsWith(openAI[1].images[0], "data:image/png;base64,"));
    COMPARE(openAI[1].messages[1].content, std::string("A black line."));
}

TEST_CASE(badImageRecordsAreRefusedByName)
{
    const auto q = [](const std::string &extra) {
        return "{\"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nQ\"}, {\"from\": \"gpt\", "
               "\"value\": \"A\"}]" +
               extra + "}\n";
    };
    std::string message = refusal(q(", \"image\": \"missing.png\""));
    VERIFY2(contains(message, "record 1 (line 1): the image \"missing.png\" was not found") &&
                contains(message, "relative to the dataset file's folder"),
            message);
    message = refusal(q(", \"image\": \"https://example.com/a.png\""));
    VERIFY2(contains(message, "is a web address; download the images"), message);
    message = refusal(q(", \"image\": [\"a.png\", \"a.png\"]"));
    VERIFY2(contains(message, "has 1 <image> placeholder(s) but 2 image(s)"), message);
    message = refusal(q(", \"image\": 3"));
    VERIFY2(contains(message, "field \"image\" must be an image path, not number"), message);
    message = refusal(q(", \"image\": \"\""));
    VERIFY2(contains(message, "an image path is empty"), message);
    message = refusal("{\"text\": \"a document\", \"image\": \"a.png\"}\n");
    VERIFY2(contains(message, "has images but no user turn"), message);
    message =
        refusal("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": "
                "{\"url\": \"a.png\"}}]}, {\"role\": \"assistant\", \"content\": \"x\"}], \"images\": "
                "[\"a.png\"]}\n");
    VERIFY2(contains(message, "has images both in its messages' content and in \"images\""), message);
    message =
        refusal("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}, {\"role\": "
                "\"assistant\", \"content\": \"x\"}]}\n");
    VERIFY2(contains(message, "\"messages[0].content[0]\" is an image part without a path or URL"), message);
    message =
        refusal("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"audio\"}]}, {\"role\": "
                "\"assistant\", \"content\": \"x\"}]}\n");
    VERIFY2(contains(message, "is not a text or image part"), message);
    // Text-only records are untouched by a literal "<image>" in their text.
    COMPARE(refusal("{\"prompt\": \"What does <image> mean in HTML?\", \"completion\": \"Nothing.\"}\n"),
            std::string("(accepted)"));
}

TEST_CASE(recordImagesExpandToTheirTilesTokens)
{
    std::vector<DatasetRecord> records = readDataset(shipped("internvl.jsonl"));
    const TilingSettings tiling = smallTiles();
    // red_square 64 x 48 at 28-pixel tiles, at most 6: the 3 x 2 grid (aspect 1.5), plus the thumbnail.
    const std::vector<int64_t> tiles = expandRecordImages(records[0], shipped("internvl.jsonl"), tiling, 1);
    COMPARE(nlohmann::json(tiles).dump(), std::string("[7]"));
    COMPARE(
        records[0].messages[0].content, "<img>" + std::string() + [] {
            std::string run;
            for (int i = 0; i < 7; ++i)
                run += "<IMG_CONTEXT>";
            return run;
        }() + "</img>\nWhat shape is shown?");
    // blue_circle 48 x 64: 2 x 3 + thumbnail; green_triangle 96 x 40: aspect 2.4, the 2 x 1 grid + thumbnail.
    const std::vector<int64_t> two = expandRecordImages(records[1], shipped("internvl.jsonl"), tiling, 4);
    COMPARE(nlohmann::json(two).dump(), std::string("[7,3]"));
    COMPARE(int64_t(countImagePlaceholders(records[1].messages[0].content)), int64_t(0));

    // Shown to people, a run of context tokens reads as one with its count.
    COMPARE(collapseTokenRuns(records[0].messages[0].content, "<IMG_CONTEXT>"),
            std::string("<img><IMG_CONTEXT> x 7</img>\nWhat shape is shown?"));
    COMPARE(collapseTokenRuns("a <T> b <T><T> c", "<T>"), std::string("a <T> b <T> x 2 c"));

    std::vector<DatasetRecord> openAI = readDataset(shipped("openai_images.jsonl"));
    COMPARE(
        nlohmann::json(expandRecordImages(openAI[1], shipped("openai_images.jsonl"), tiling, 2)).dump(),
        std::string("[5]")); // the 40 x 40 data: URL image fills more than half of 2 x 2 tiles: 4 + thumbnail
}

TEST_CASE(badImageDataIsRefusedNamingTheRecord)
{
    DatasetRecord record;
    record.number = 5;
    record.messages = {{"user", "<image>\nQ"}, {"assistant", "A"}};
    record.images = {"data:image/png;base64,@@@@"};
    try {
        expandRecordImages(record, "set.jsonl", smallTiles(), 4);
        FAIL("a data: URL that is not base64 was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "set.jsonl: record 5, image 1: the data: URL is not base64"),
                error.what());
    }
    record.images = {"data:image/png;base64,aGVsbG8="}; // "hello": base64, but no image
    try {
        expandRecordImages(record, "set.jsonl", smallTiles(), 4);
        FAIL("a data: URL that holds no image was accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "set.jsonl: record 5, image 1"), error.what());
    }
    record.images = {"data:image/png;base64,aGVsbG8=", "data:image/png;base64,aGVsbG8="};
    try {
        expandRecordImages(record, "set.jsonl", smallTiles(), 4);
        FAIL("two images for one placeholder were accepted");
    } catch (const Error &error) {
        VERIFY2(contains(error.what(), "record 5 has 1 <image> placeholder(s) for 2 image(s)"), error.what());
    }
}

// Prepared for a text model, records with images are skipped and say why; for a vision-language model
// they are expanded and counted.
TEST_CASE(preparationSkipsOrExpandsImageRecords)
{
    const FakeTokenizer tokenizer;
    const ChatTemplate chatml = ChatTemplate::builtin(TemplateKind::ChatML, "", "<|im_end|>");
    PrepareOptions options;
    options.requireUsable = false;
    const PreparedDataset text = prepareDataset(shipped("internvl.jsonl"), chatml, tokenizer, options);
    COMPARE(text.statistics.used, int64_t(1));
    COMPARE(text.statistics.recordsWithImages, int64_t(3));
    COMPARE(text.statistics.skipReasons.front().first, std::string("has images (the model reads text only)"));
    COMPARE(text.statistics.images, int64_t(0));

    options.images.expand = [](DatasetRecord &record) {
        return expandRecordImages(record, shipped("internvl.jsonl"), smallTiles(), 2);
    };
    const PreparedDataset vision = prepareDataset(shipped("internvl.jsonl"), chatml, tokenizer, options);
    COMPARE(vision.statistics.used, int64_t(4));
    COMPARE(vision.statistics.images, int64_t(4));
    COMPARE(vision.statistics.imageTiles, int64_t(7 + 7 + 3 + 3));
    COMPARE(vision.statistics.maxImagesPerRecord, int64_t(2));
    COMPARE(vision.statistics.maxTilesPerImage, int64_t(7));
    COMPARE(vision.statistics.toJson()["images"]["tiles"].get<int64_t>(), int64_t(20));
}
