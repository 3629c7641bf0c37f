// The CLI on InternVL models (tests/reference/internvl_make_fixtures.py): `emloc info` describes the tower,
// projector and tiles; `emloc generate --image` gives transformers' prompt ids and greedy tokens end to end
// (images decoded and tiled, chat template, placeholders expanded, tokenized); `emloc data inspect`
// counts the images and tiles of the shipped image dataset as InternVL's published rule does.
#include "emloc/io/gguf_file.h"
#include "emloc/io/safetensors.h"

#include "internvl_fixtures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>

using namespace emloc::test;

namespace {
const char *const kLayouts[] = {"_hf", "_original"};
TempDir *g_dir = nullptr;
nlohmann::json g_summary;
} // namespace

SUITE_SETUP()
{
    makeInternVLFixtures();
    g_dir = internVLFixtures().dir.get();
    g_summary = internVLFixtures().summary;
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

// `emloc build-emulator` on an InternVL model calibrates on the records' images too and writes the
// language model's emulator, which the CLI then reads as a text model; with --vision-ratio it compresses the
// tower's linears too, and train and evaluate run the images through that tower.
TEST_CASE(buildEmulatorCalibratesOnImages)
{
    const std::string out = g_dir->filePath("cli_emulator");
    const auto result = runCli({"--json", "build-emulator", g_dir->filePath("qwen2_original"), "--data",
                                testDataDir() + "/datasets/vision/internvl.jsonl", "--ratio", "0.5",
                                "--vision-ratio", "0.5", "--out", out});
    VERIFY2(result.exitCode == 0, describe(result));
    const nlohmann::json summary = nlohmann::json::parse(result.out);
    COMPARE(summary["calibration_samples"].get<int64_t>(), int64_t(4));
    COMPARE(summary["calibration_images"].get<int64_t>(), int64_t(g_summary["_internvl_jsonl_tiles"].size()));
    VERIFY(summary["calibration_image_tokens"].get<int64_t>() > 0);
    VERIFY(summary["peak_memory_bytes"].get<int64_t>() >=
           summary["image_encoding_peak_bytes"].get<int64_t>());
    VERIFY(summary["predicted_peak_bytes"].get<int64_t>() > 0);
    // The tower compressed too (--vision-ratio): its factors beside the language model's.
    COMPARE(summary["vision_tower"]["kind"].get<std::string>(), std::string("compressed"));
    VERIFY(summary["vision_tower"]["parameters"].get<int64_t>() <
           summary["vision_tower"]["linear_parameters"].get<int64_t>());
    VERIFY(!summary["vision_tower"].contains("modules")); // those are in emulator.json
    const nlohmann::json manifest = nlohmann::json::parse(readFile(out + "/emulator.json"));
    COMPARE(manifest["vision_tower"]["ratio"].get<double>(), 0.5);
    VERIFY(std::filesystem::is_regular_file(out + "/vision_tower.safetensors"));
    const auto info = runCli({"--json", "info", out});
    VERIFY2(info.exitCode == 0, describe(info));

    const auto text = runCli({"build-emulator", g_dir->filePath("qwen2_original"), "--data",
                              testDataDir() + "/datasets/vision/internvl.jsonl", "--ratio", "0.5", "--out",
                              g_dir->filePath("cli_emulator_text"), "--overwrite"});
    VERIFY2(text.exitCode == 0, describe(text));
    VERIFY2(contains(text.out, "4 images") && contains(text.out, "Vision tower  kept dense"), text.out);
    const auto compressedText =
        runCli({"build-emulator", g_dir->filePath("qwen2_original"), "--data",
                testDataDir() + "/datasets/vision/internvl.jsonl", "--ratio", "0.5", "--vision-ratio", "0.4",
                "--out", g_dir->filePath("cli_emulator_text"), "--overwrite"});
    VERIFY2(compressedText.exitCode == 0, describe(compressedText));
    VERIFY2(contains(compressedText.out, "Vision tower  ratio 0.40"), compressedText.out);
    // A text model has no tower to compress.
    const auto textModel =
        runCli({"build-emulator", out, "--data", testDataDir() + "/datasets/vision/internvl.jsonl",
                "--vision-ratio", "0.4", "--out", g_dir->filePath("cli_emulator_refused")});
    VERIFY2(textModel.exitCode != 0 && contains(textModel.err, "text model"), describe(textModel));
    VERIFY(!std::filesystem::exists(g_dir->filePath("cli_emulator_refused")));

    // Stage 2 on that emulator: every record kept (none skipped for its images), through the source's
    // tower.
    const auto trained = runCli({"--json", "train", out, "--data",
                                 testDataDir() + "/datasets/vision/internvl.jsonl", "--steps", "2", "--batch",
                                 "2", "--validation-fraction", "0", "--out", g_dir->filePath("cli_adapter")});
    VERIFY2(trained.exitCode == 0, describe(trained));
    VERIFY2(contains(trained.err, "4 training and 0 validation examples") &&
                contains(trained.err, "compressed copy of that model's vision tower"),
            trained.err);
    const nlohmann::json training = nlohmann::json::parse(trained.out);
    COMPARE(training["steps"].get<int64_t>(), int64_t(2));
    VERIFY(std::isfinite(training["final_train_loss"].get<double>()));

    // Stage 3: the adapter corrected for the InternVL model's own language model.
    const auto corrected =
        runCli({"--json", "correct", "--model", g_dir->filePath("qwen2_original"), "--emulator", out,
                "--adapter", g_dir->filePath("cli_adapter"), "--out", g_dir->filePath("cli_corrected")});
    VERIFY2(corrected.exitCode == 0, describe(corrected));
    VERIFY(nlohmann::json::parse(corrected.out)["modules"].size() > 0);
    // Under the original checkpoint's names, peft's target_modules one expression over them.
    const nlohmann::json adapterConfig =
        nlohmann::json::parse(readFile(g_dir->filePath("cli_corrected") + "/adapter_config.json"));
    VERIFY2(
        contains(adapterConfig["target_modules"].get<std::string>(), "language_model\\.model\\.layers\\."),
        adapterConfig.dump());
    // And the model answers with it.
    const auto answered = runCli({"--json", "generate", g_dir->filePath("qwen2_original"), "--image",
                                  g_dir->filePath("wide.png"), "--prompt", "What is it?", "--max-new-tokens",
                                  "3", "--adapter", g_dir->filePath("cli_corrected")});
    VERIFY2(answered.exitCode == 0, describe(answered));

    // Held-out evaluation with the records' images: the original, the emulator with its LoRA, the
    // original with it uncorrected and corrected, every image record generated for.
    const auto evaluated =
        runCli({"--json", "evaluate", "--model", g_dir->filePath("qwen2_original"), "--emulator", out,
                "--adapter", g_dir->filePath("cli_adapter"), "--corrected", g_dir->filePath("cli_corrected"),
                "--data", testDataDir() + "/datasets/vision/internvl.jsonl", "--max-new-tokens", "3"});
    VERIFY2(evaluated.exitCode == 0, describe(evaluated));
    const nlohmann::json evaluation = nlohmann::json::parse(evaluated.out);
    COMPARE(int(evaluation["models"].size()), 4);
    for (const nlohmann::json &model : evaluation["models"]) {
        COMPARE(model["examples"].get<int64_t>(), int64_t(4));
        COMPARE(model["generated"].get<int64_t>(), int64_t(4));
    }
}

// The corrected adapter exported for the -hf checkpoint (its names were the original layout's): transformers
// loads the merged model, peft the adapter, and both give the same logits on a prompt with two images. The
// merged model in the original layout answers as the model with the adapter does.
TEST_CASE(exportsLoadInTransformersAndPeft)
{
    const std::string adapter = g_dir->filePath("cli_corrected");
    VERIFY2(std::filesystem::exists(adapter + "/adapter_config.json"),
            "buildEmulatorCalibratesOnImages makes the corrected adapter");
    const std::string hf = g_dir->filePath("qwen2_hf"), original = g_dir->filePath("qwen2_original");
    for (const char *format : {"peft", "merged"}) {
        const auto exported = runCli({"--json", "export", "--model", hf, "--adapter", adapter, "--format",
                                      format, "--out", g_dir->filePath(std::string("export_") + format)});
        VERIFY2(exported.exitCode == 0, describe(exported));
    }
    const std::string logits = g_dir->filePath("export_logits.safetensors");
    const auto loaded = runPythonScript(
        "internvl_peft_logits.py",
        {hf, g_dir->filePath("export_peft"), logits, g_dir->filePath("export_merged")}, 600000);
    VERIFY2(loaded.exitCode == 0, describe(loaded));
    emloc::core::SafetensorsFile results(logits), reference(hf + "/reference.safetensors");
    const torch::Tensor peft = results.tensor("logits"), merged = results.tensor("merged_logits");
    const double difference = (merged - peft).abs().max().item<double>();
    const double moved = (peft - reference.tensor("logits")).abs().max().item<double>();
    info(
        format("transformers on the merged model against peft: max |logit diff| %.3g (the adapter moves them "
               "by %.3g)",
               difference, moved));
    VERIFY2(difference < 1e-4, str(difference));
    VERIFY2(moved > 1e-2, str(moved));

    // The original layout keeps its own names and files, so its own loader reads it.
    const std::string mergedOriginal = g_dir->filePath("export_merged_original");
    const auto exported = runCli(
        {"export", "--model", original, "--adapter", adapter, "--format", "merged", "--out", mergedOriginal});
    VERIFY2(exported.exitCode == 0, describe(exported));
    VERIFY(std::filesystem::exists(mergedOriginal + "/preprocessor_config.json"));
    const auto answer = [&](const std::vector<std::string> &extra) {
        std::vector<std::string> args{"--json", "generate"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--image", g_dir->filePath("wide.png"), "--prompt", "What is it?",
                                 "--max-new-tokens", "6"});
        const auto result = runCli(args);
        VERIFY2(result.exitCode == 0, describe(result));
        return nlohmann::json::parse(result.out)["new_tokens"];
    };
    COMPARE(answer({mergedOriginal}).dump(), answer({original, "--adapter", adapter}).dump());
}

// The vision tower for llama.cpp. The mmproj GGUF is what llama.cpp's converter writes (every tensor's name,
// shape, type and value, and the keys), from either layout and as F16. llama.cpp's multimodal library runs
// it beside the merged language model's GGUF: the image's embeddings, the prompt's last logits and the
// greedy answer are transformers' with peft's adapter on the same tokens, once llama.cpp's own deviation
// from the model (where it puts the class token) is restated on transformers' side.
TEST_CASE(mmprojRunsInLlamaCppBesideTheLanguageModel)
{
    const std::string adapter = g_dir->filePath("cli_corrected");
    VERIFY2(std::filesystem::exists(adapter + "/adapter_config.json"),
            "buildEmulatorCalibratesOnImages makes the corrected adapter");
    const std::string hf = g_dir->filePath("qwen2_hf");
    const auto exportMmproj = [&](const std::string &model, const std::string &out,
                                  const std::vector<std::string> &extra) {
        std::vector<std::string> args{"--json",   "export",      "--model", model,
                                      "--format", "gguf-mmproj", "--out",   out};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto exported = runCli(args);
        VERIFY2(exported.exitCode == 0, describe(exported));
        COMPARE(nlohmann::json::parse(exported.out)["tensors_checked"].get<int64_t>(), int64_t(64));
        const auto compared = runPythonScript("internvl_mmproj_reference.py", {model, out}, 300000);
        VERIFY2(compared.exitCode == 0, describe(compared));
    };
    for (const std::string layout : kLayouts)
        exportMmproj(g_dir->filePath("qwen2" + layout), g_dir->filePath("mmproj" + layout + ".gguf"), {});
    exportMmproj(hf, g_dir->filePath("mmproj_f16.gguf"), {"--dtype", "F16"});

    const std::string language = g_dir->filePath("language_merged.gguf");
    const std::string peft = g_dir->filePath("mmproj_peft"); // the adapter under the -hf names
    const std::string base = g_dir->filePath("language_base.gguf"),
                      lora = g_dir->filePath("language_lora.gguf");
    const auto converted = runCli({"export-gguf", hf, base, "--dtype", "F32"});
    VERIFY2(converted.exitCode == 0 && contains(converted.out, "gguf-mmproj"), describe(converted));
    for (const auto &[format, out] :
         {std::pair{"gguf-merged", language}, std::pair{"peft", peft}, std::pair{"gguf-lora", lora}}) {
        const auto exported =
            runCli({"export", "--model", hf, "--adapter", adapter, "--format", format, "--out", out});
        VERIFY2(exported.exitCode == 0, describe(exported));
    }
    const auto ran = runPythonScript(
        "internvl_mmproj_reference.py",
        {hf, g_dir->filePath("mmproj_hf.gguf"), language, g_dir->filePath("tile.png"), hf, peft, base, lora},
        600000);
    VERIFY2(ran.exitCode == 0, describe(ran));
    const nlohmann::json result = nlohmann::json::parse(lastLine(ran.out));
    COMPARE(result["image_tokens"].get<int64_t>(), int64_t(4)); // one tile, no thumbnail
    // llama.cpp's graph puts the class token after the patches (as its issue 25814 reports of its LLaVA
    // graph): with that restated, the differences are rounding (ggml's GELU is a float16 table); against
    // transformers' own model, they are that deviation, reported.
    const nlohmann::json &same = result["as_llama_cpp_graph"], &model = result["transformers"];
    info(format(
        "llama.cpp against transformers + peft with its class token restated: image embeddings %.3g "
        "(largest %.3g), last logits %.3g (largest %.3g); against transformers' own model: %.3g, %.3g; "
        "greedy %s",
        same["embedding_max_diff"].get<double>(), same["embedding_max"].get<double>(),
        same["logits_max_diff"].get<double>(), same["logits_max"].get<double>(),
        model["embedding_max_diff"].get<double>(), model["logits_max_diff"].get<double>(),
        result["greedy"].dump().c_str()));
    VERIFY2(same["embedding_max_diff"].get<double>() < 2e-3 * same["embedding_max"].get<double>(),
            result.dump());
    VERIFY2(same["logits_max_diff"].get<double>() < 5e-3 * same["logits_max"].get<double>(), result.dump());
    COMPARE(result["greedy"].dump(), same["greedy"].dump());
    // The base language model with the GGUF LoRA, as llama.cpp applies an adapter at load: the merged one's.
    const nlohmann::json &applied = result["gguf_lora"];
    info(format("base GGUF + GGUF LoRA against the merged GGUF in llama.cpp: last logits %.3g",
                applied["logits_max_diff_to_merged"].get<double>()));
    VERIFY2(applied["logits_max_diff_to_merged"].get<double>() < 1e-3 * same["logits_max"].get<double>(),
            result.dump());
    COMPARE(applied["greedy"].dump(), result["greedy"].dump());
    VERIFY2(model["embedding_max_diff"].get<double>() < 0.2 * model["embedding_max"].get<double>(),
            result.dump());

    // A text model has no projector; the refusal says so.
    const auto text = runCli({"export", "--model", language, "--format", "gguf-mmproj", "--out",
                              g_dir->filePath("text_mmproj.gguf")});
    VERIFY2(text.exitCode != 0 && contains(text.err, "text model"), describe(text));
    VERIFY(!std::filesystem::exists(g_dir->filePath("text_mmproj.gguf")));
}

// The Ollama folder of a vision-language model: the language model and its projector as two FROM lines, the
// adapter, and a TEMPLATE that Go's text/template renders as the model's chat template does.
TEST_CASE(ollamaFolderHoldsTheProjector)
{
    const std::string out = g_dir->filePath("ollama_vl");
    const auto exported = runCli({"export", "--model", g_dir->filePath("qwen2_hf"), "--adapter",
                                  g_dir->filePath("cli_corrected"), "--format", "ollama", "--out", out});
    VERIFY2(exported.exitCode == 0, describe(exported));
    const std::string conversations = g_dir->filePath("ollama_conversations.json");
    writeFile(conversations, R"([[{"role": "user", "content": "What is shown?"}]])");
    ProcessOptions go;
    go.environment["GOCACHE"] = g_dir->filePath("gocache");
    const auto parsed = runProcess(
        "go", {"run", sourceDir() + "/tests/reference/ollama_template.go", out + "/Modelfile", conversations},
        go);
    VERIFY2(parsed.exitCode == 0, describe(parsed));
    const nlohmann::json result = nlohmann::json::parse(lastLine(parsed.out));
    std::vector<std::string> from;
    for (const nlohmann::json &instruction : result["instructions"])
        if (instruction[0] == "from")
            from.push_back(instruction[1].get<std::string>());
    COMPARE(nlohmann::json(from).dump(), std::string(R"(["./model.gguf","./mmproj.gguf"])"));
    COMPARE(emloc::core::GgufFile(out + "/mmproj.gguf").string("general.architecture"), std::string("clip"));
    COMPARE(emloc::core::GgufFile(out + "/model.gguf").string("general.architecture"), std::string("qwen2"));
    COMPARE(result["rendered"][0].get<std::string>(),
            std::string("<|im_start|>user\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"));
}

// What a run cannot do with a vision-language model is refused before any stage starts: a projector llama.cpp
// cannot run, for gguf-mmproj and for the Ollama folder, which holds it.
TEST_CASE(runRefusesWhatItCannotFinishBeforeItStarts)
{
    const auto refused = [&](const std::string &model, const nlohmann::json &exports,
                             const std::string &why) {
        const std::string output = g_dir->filePath("refused_run");
        const nlohmann::json config = {{"model", model},
                                       {"output", output},
                                       {"data", {{"train", testDataDir() + "/datasets/vision/shapes.jsonl"}}},
                                       {"export", exports}};
        writeFile(g_dir->filePath("refused.json"), config.dump());
        const auto run = runCli({"run", g_dir->filePath("refused.json")});
        VERIFY2(run.exitCode == 1 && contains(run.err, why), describe(run));
        VERIFY2(!std::filesystem::exists(output + "/emulator"), "a stage ran before the refusal");
    };
    // llama.cpp runs the tower at its position embedding's size; this one is interpolated to the tiles.
    refused(g_dir->filePath("qwen2_interpolated_hf"), {"peft", "gguf-mmproj"}, "position embedding");
    refused(g_dir->filePath("qwen2_interpolated_original"), {"ollama"}, "mmproj GGUF");
    // llama.cpp takes RMS norm in InternViT only at InternViT-6B's shape; this tower has it at width 32.
    refused(g_dir->filePath("internlm2_original"), {"gguf-mmproj"}, "rms_norm");
}

// `emloc plan` on an InternVL model: every stage carries the tower and projector.
TEST_CASE(planCountsTheVisionTower)
{
    const auto result = runCli({"--json", "plan", g_dir->filePath("qwen2_original"), "--data",
                                testDataDir() + "/datasets/vision/internvl.jsonl"});
    VERIFY2(result.exitCode == 0, describe(result));
    const nlohmann::json plan = nlohmann::json::parse(result.out);
    VERIFY2(contains(plan.dump(), "vision tower and projector"), plan.dump());
    COMPARE(plan["measured_calibration"]["calibration_samples"].get<int64_t>(), int64_t(4));
}

// Bad images in a dataset the stages read: the run stops before writing, names the dataset's record and
// the image, and leaves no output folder behind.
TEST_CASE(stagesRefuseBadImagesCleanly)
{
    const std::string image = testDataDir() + "/datasets/vision/images/red_square.png";
    writeFile(g_dir->filePath("truncated.png"), readFile(image).substr(0, 60));
    writeFile(g_dir->filePath("not_an_image.png"), "plain text, not pixels");
    const auto record = [](const std::string &path) {
        return nlohmann::json{{"image", path},
                              {"conversations",
                               {{{"from", "human"}, {"value", "<image>\nWhat is it?"}},
                                {{"from", "gpt"}, {"value", "A square."}}}}}
                   .dump() +
               "\n";
    };
    for (const auto &[name, line, expected] :
         {std::tuple{"truncated", record("truncated.png"), "truncated.png"},
          std::tuple{"not an image", record("not_an_image.png"), "not_an_image.png"},
          std::tuple{"missing", record("gone.png"), "gone.png"},
          std::tuple{"two placeholders, one image",
                     nlohmann::json{{"image", "truncated.png"},
                                    {"conversations",
                                     {{{"from", "human"}, {"value", "<image><image>\nWhat?"}},
                                      {{"from", "gpt"}, {"value", "A."}}}}}
                             .dump() +
                         "\n",
                     "placeholder"}}) {
        Row row(name);
        const std::string data = g_dir->filePath("bad_images.jsonl");
        writeFile(data, line);
        const std::string out = g_dir->filePath("bad_images_emulator");
        const auto built = runCli(
            {"build-emulator", g_dir->filePath("qwen2_hf"), "--data", data, "--ratio", "0.5", "--out", out});
        VERIFY2(built.exitCode == 1, describe(built));
        VERIFY2(contains(built.err, expected) && contains(built.err, "record 1"), built.err);
        VERIFY2(!fileExists(out), out);
        const auto trained = runCli({"train", g_dir->filePath("qwen2_hf"), "--data", data, "--steps", "1",
                                     "--out", g_dir->filePath("bad_images_adapter")});
        VERIFY2(trained.exitCode == 1 && contains(trained.err, expected), describe(trained));
        VERIFY2(!fileExists(g_dir->filePath("bad_images_adapter") + "/adapter_model.safetensors"),
                "an adapter was written");
    }
}
