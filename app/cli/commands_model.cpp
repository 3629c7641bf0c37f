// `emloc info`, `emloc generate` and `emloc tokenize`: look at a model, run it, and see its tokens.
#include "cli_context.h"
#include "option_choices.h"

#include "emloc/api/device.h"
#include "emloc/api/error.h"
#include "emloc/io/model_files.h"
#include "emloc/io/peft_adapter.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/generation.h"
#include "emloc/model/model_summary.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"
#include "emloc/util/memory.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/internvl_weights.h"
#include "emloc/vision/vision_language_model.h"

#include <cstdio>
#include <functional>

namespace emloc::cli {

namespace {

// One user turn rendered with the model's chat template, as transformers' apply_chat_template does.
std::string renderChat(const core::ModelFiles &files, const std::string &prompt, core::Feedback &feedback)
{
    const bool hasTemplate =
        files.tokenizerConfig.is_object() && files.tokenizerConfig.contains("chat_template");
    if (!hasTemplate)
        throw core::Error(files.path + " has no chat template (tokenizer_config.json \"chat_template\"); "
                                       "run without --chat to send the prompt as is");
    const auto chatTemplate = core::ChatTemplate::fromModel(files.tokenizerConfig, "auto");
    for (const auto &warning : chatTemplate.warnings())
        feedback.log(core::LogLevel::Warning, warning);
    return chatTemplate.render({{"user", prompt}}, /*addGenerationPrompt=*/true);
}

std::string ropeScalingText(const core::ModelConfig &config)
{
    std::string text = config.ropeScaling.type.empty() || config.ropeScaling.type == "default"
                           ? std::string("none")
                           : config.ropeScaling.type + " x" + std::to_string(config.ropeScaling.factor);
    return text;
}

std::string millions(int64_t count)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f M", static_cast<double>(count) / 1e6);
    return buffer;
}

// `vision`: the vision-language model whose language model `files` is (its tower and projector are
// described and counted apart).
void printInfo(CommandOutput &output, const CliContext &context, const core::ModelFiles &files,
               const core::VisionLanguageFiles *vision = nullptr)
{
    const auto &config = files.config;
    const auto counts = core::countParameters(files);
    const core::VisionParameterCounts visionCounts =
        vision ? core::countVisionParameters(*vision->weights) : core::VisionParameterCounts{};
    const int64_t visionTotal = visionCounts.tower + visionCounts.projector;
    const int64_t total = counts.total() + visionTotal;
    const int64_t headDim =
        config.headDim > 0 ? config.headDim : config.hiddenSize / std::max<int64_t>(1, config.numHeads);
    const bool hasChatTemplate =
        files.tokenizerConfig.is_object() && files.tokenizerConfig.contains("chat_template");
    // A GGUF's general.file_type says little (a Q4_1 file reads as float32 through it): its tensors do.
    const auto types = core::storedTypes(files);
    const std::string storedDtype =
        files.format == "gguf" && !types.empty() ? types.front().type : config.torchDtype;
    if (context.json) {
        nlohmann::json visionJson = nullptr;
        if (vision) {
            const core::VisionTowerConfig &tower = vision->config.vision;
            visionJson = {
                {"family", "internvl"},
                {"layout", vision->config.layout},
                {"language_model", vision->config.languageFamily},
                {"tower_layers", tower.numLayers},
                {"tower_layers_used", tower.usedLayers},
                {"tower_hidden_size", tower.hiddenSize},
                {"tower_heads", tower.numHeads},
                {"patch_size", tower.patchSize},
                {"downsample_factor", vision->config.unshuffleFactor},
                {"tile_size", vision->tiling.tileSize},
                {"min_tiles", vision->tiling.minTiles},
                {"max_tiles", vision->tiling.maxTiles},
                {"thumbnail", vision->tiling.thumbnail},
                {"tokens_per_tile", vision->config.tokensPerTile(vision->tiling.tileSize)},
                {"image_token_id", vision->config.imageTokenId},
                {"parameters", {{"tower", visionCounts.tower}, {"projector", visionCounts.projector}}}};
        }
        nlohmann::json typesJson = nlohmann::json::array();
        for (const auto &type : types)
            typesJson.push_back(
                {{"type", type.type}, {"tensors", type.tensors}, {"parameters", type.parameters}});
        output.setJson({{"path", files.path},
                        {"format", files.format},
                        {"architecture", config.modelType},
                        {"layers", config.numLayers},
                        {"hidden_size", config.hiddenSize},
                        {"intermediate_size", config.intermediateSize},
                        {"attention_heads", config.numHeads},
                        {"key_value_heads", config.numKeyValueHeads},
                        {"head_dim", headDim},
                        {"vocab_size", config.vocabSize},
                        {"max_position_embeddings", config.maxPositionEmbeddings},
                        {"rope_theta", config.ropeTheta},
                        {"rope_scaling", config.ropeScaling.type},
                        {"sliding_window", config.slidingWindow},
                        {"tied_embeddings", counts.tiedEmbeddings},
                        {"stored_dtype", storedDtype},
                        {"stored_types", typesJson},
                        {"parameters",
                         {{"total", total},
                          {"embeddings", counts.embeddings},
                          {"attention", counts.attention},
                          {"mlp", counts.mlp},
                          {"norms", counts.norms},
                          {"lm_head", counts.lmHead},
                          {"other", counts.other}}},
                        {"weight_bytes", {{"fp32", total * 4}, {"bf16", total * 2}, {"fp16", total * 2}}},
                        {"tokenizer", files.tokenizerJson.is_object() && !files.tokenizerJson.empty()},
                        {"chat_template", hasChatTemplate},
                        {"vision", visionJson}});
        return;
    }
    if (vision) {
        const core::VisionTowerConfig &tower = vision->config.vision;
        const core::TilingSettings &tiling = vision->tiling;
        const int64_t merged =
            tower.hiddenSize * vision->config.unshuffleFactor * vision->config.unshuffleFactor;
        output.printf("Vision model  InternVL (%s layout), language model %s\n",
                      vision->config.layout == "hf" ? "transformers -hf" : "original",
                      vision->config.languageFamily.c_str());
        output.printf(
            "Vision tower  InternViT, %lld layers (features of layer %lld), hidden %lld, %lld heads, "
            "patch %lld, %s%s: %s\n",
            (long long)tower.numLayers, (long long)tower.usedLayers, (long long)tower.hiddenSize,
            (long long)tower.numHeads, (long long)tower.patchSize, tower.normType.c_str(),
            tower.qkNorm ? ", QK norm" : "", millions(visionCounts.tower).c_str());
        output.printf("Projector     pixel-unshuffle x%lld, MLP %lld -> %lld -> %lld (%s): %s\n",
                      (long long)vision->config.unshuffleFactor, (long long)merged,
                      (long long)config.hiddenSize, (long long)config.hiddenSize,
                      vision->config.projectorActivation.c_str(), millions(visionCounts.projector).c_str());
        output.printf("Images        tiles of %lld px, %lld to %lld per image%s, %lld tokens per tile, "
                      "image token %lld\n",
                      (long long)tiling.tileSize, (long long)tiling.minTiles, (long long)tiling.maxTiles,
                      tiling.thumbnail ? " plus a thumbnail" : "",
                      (long long)vision->config.tokensPerTile(tiling.tileSize),
                      (long long)vision->config.imageTokenId);
        output.printf("Language model:\n");
    }
    output.printf("Model         %s (%s)\n", files.path.c_str(),
                  files.format == "gguf" ? "GGUF" : "Hugging Face folder");
    output.printf("Architecture  %s, %lld layers, hidden %lld, intermediate %lld\n", config.modelType.c_str(),
                  (long long)config.numLayers, (long long)config.hiddenSize,
                  (long long)config.intermediateSize);
    output.printf(
        "Attention     %lld heads, %lld key/value heads, head dim %lld, rope theta %g, rope scaling %s%s\n",
        (long long)config.numHeads, (long long)config.numKeyValueHeads, (long long)headDim, config.ropeTheta,
        ropeScalingText(config).c_str(),
        config.slidingWindow > 0 ? (", sliding window " + std::to_string(config.slidingWindow)).c_str() : "");
    output.printf("Vocabulary    %lld tokens, context %lld\n", (long long)config.vocabSize,
                  (long long)config.maxPositionEmbeddings);
    output.printf("Parameters    %s\n", millions(total).c_str());
    output.printf("  embeddings  %s\n", millions(counts.embeddings).c_str());
    output.printf("  attention   %s\n", millions(counts.attention).c_str());
    output.printf("  MLP         %s\n", millions(counts.mlp).c_str());
    output.printf("  norms       %s\n", millions(counts.norms).c_str());
    output.printf("  lm_head     %s\n",
                  counts.tiedEmbeddings ? "tied to the embeddings" : millions(counts.lmHead).c_str());
    if (counts.other > 0)
        output.printf("  other       %s\n", millions(counts.other).c_str());
    if (vision)
        output.printf("  vision      %s (tower and projector)\n", millions(visionTotal).c_str());
    output.printf("Weights       fp32 %s, bf16 %s, fp16 %s (stored as %s)\n",
                  core::formatBytes(total * 4).c_str(), core::formatBytes(total * 2).c_str(),
                  core::formatBytes(total * 2).c_str(),
                  files.format == "gguf" ? core::describeStoredTypes(types).c_str() : storedDtype.c_str());
    output.printf("Tokenizer     %s, chat template %s\n",
                  files.tokenizerJson.is_object() && !files.tokenizerJson.empty() ? "yes" : "no",
                  hasChatTemplate ? "yes" : "no");
}

const char *stopReasonText(core::GenerationResult::StopReason reason)
{
    switch (reason) {
    case core::GenerationResult::StopReason::StopToken:
        return "stop_token";
    case core::GenerationResult::StopReason::Callback:
        return "interrupted";
    case core::GenerationResult::StopReason::MaxNewTokens:
        break;
    }
    return "max_new_tokens";
}

struct GenerateCommand
{
    std::string model;
    std::string prompt;
    bool chat = false;
    std::string dtype = "auto";
    std::string adapter;             // a PEFT adapter folder; empty: the model as it is
    std::vector<std::string> images; // vision-language models only
    core::GenerationOptions options;
};

using GenerationRun = std::function<core::GenerationResult(const core::TokenCallback &onToken)>;

// Runs the generation, streaming its text to stdout as it comes (or collecting it for --json), then the
// summary. `text` is the prompt as shown to the user (image placeholders unexpanded); `images` lists
// the images' files and tiles (null: none).
// `meter` has measured since before the model was loaded: its peak is the whole command's.
void streamGeneration(CommandOutput &output, const CliContext &context, core::Feedback &feedback,
                      const core::Tokenizer &tokenizer, const std::string &text, const GenerationRun &run,
                      const core::MemoryMeter &meter, const nlohmann::json &images = nullptr)
{
    if (auto *terminal = dynamic_cast<TerminalFeedback *>(&feedback))
        terminal->finishLine();
    std::string printed;
    std::vector<int64_t> generated;
    auto onToken = [&](int64_t token) {
        feedback.checkpoint(); // Ctrl-C ends the generation as a cancelled job
        generated.push_back(token);
        if (context.json)
            return true;
        // Decode the whole continuation and print what is new, holding back an incomplete UTF-8
        // character (shown as U+FFFD until its last byte arrives).
        const std::string decoded = tokenizer.decode(generated, /*skipSpecialTokens=*/true);
        const std::string replacement = "\xEF\xBF\xBD";
        const bool incomplete =
            decoded.size() >= replacement.size() &&
            decoded.compare(decoded.size() - replacement.size(), replacement.size(), replacement) == 0;
        if (!incomplete && decoded.size() > printed.size() &&
            decoded.compare(0, printed.size(), printed) == 0) {
            std::fwrite(decoded.data() + printed.size(), 1, decoded.size() - printed.size(), stdout);
            std::fflush(stdout);
            printed = decoded;
        }
        return true;
    };
    const core::GenerationResult result = run(onToken);
    const std::string decoded = tokenizer.decode(result.tokens, true);
    const double prefillRate = result.prefillSeconds > 0 ? result.promptTokens / result.prefillSeconds : 0;
    const double decodeRate =
        result.decodeSeconds > 0 ? static_cast<double>(result.tokens.size() - 1) / result.decodeSeconds : 0;
    if (context.json) {
        output.setJson({{"prompt", text},
                        {"prompt_tokens", result.promptTokens},
                        {"new_tokens", result.tokens},
                        {"text", decoded},
                        {"stop_reason", stopReasonText(result.stopReason)},
                        {"prefill_tokens_per_second", prefillRate},
                        {"decode_tokens_per_second", decodeRate},
                        {"peak_memory_bytes", meter.read().peakBytes},
                        {"images", images}});
        return;
    }
    // The generated text is this command's product: it streams as it comes (the one output written while
    // the job runs), and its end ends the line.
    if (decoded.size() > printed.size() && decoded.compare(0, printed.size(), printed) == 0)
        std::fwrite(decoded.data() + printed.size(), 1, decoded.size() - printed.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!context.quiet)
        std::fprintf(
            stderr,
            "[%lld prompt tokens at %.1f tok/s, %zu new tokens at %.1f tok/s, stopped: %s, peak memory "
            "%s]\n",
            (long long)result.promptTokens, prefillRate, result.tokens.size(), decodeRate,
            stopReasonText(result.stopReason), core::formatBytes(meter.read().peakBytes).c_str());
}

core::CausalLMOptions modelOptionsFor(const CliContext &context, const GenerateCommand &command)
{
    core::CausalLMOptions options;
    options.placement.device = torch::Device(core::parseDevice(context.device).toString());
    options.placement.dtype = core::parseComputeDtype(command.dtype, options.placement.device);
    return options;
}

// An InternVL model: the images' tiles go through the vision tower and take the place of their
// placeholders, expanded after the chat template as InternVL's chat() expands them.
void runGenerateWithImages(CommandOutput &output, CliContext &context, const GenerateCommand &command,
                           core::Feedback &feedback)
{
    core::MemoryMeter meter(context.device);
    meter.reset();
    core::VisionLanguageFiles files = core::openVisionLanguageModel(command.model);
    if (!command.adapter.empty())
        core::mergeInternVLAdapterFolder(files, command.adapter); // in memory, as for a text model
    const auto tokenizer = core::openModelText(files.language).tokenizer;
    std::function<std::string(const std::string &)> render;
    if (command.chat)
        render = [&](const std::string &question) { return renderChat(files.language, question, feedback); };
    const core::ImagePrompt prompt =
        core::buildImagePrompt(command.prompt, command.images, files.tiling,
                               files.config.tokensPerTile(files.tiling.tileSize), render, *tokenizer,
                               /*addSpecialTokens=*/!command.chat); // a rendered template holds its own
    const core::PromptImages &images = prompt.images;

    nlohmann::json imagesJson = nlohmann::json::array();
    for (size_t i = 0; i < command.images.size(); ++i)
        imagesJson.push_back({{"file", command.images[i]}, {"tiles", images.tilesPerImage[i]}});

    core::VisionLanguageModel model(files, modelOptionsFor(context, command), &feedback);
    core::GenerationOptions options = command.options;
    options.stopTokenIds = core::stopTokensFor(files.language);
    const GenerationRun run = [&](const core::TokenCallback &onToken) {
        return model.generate(prompt.ids, images.pixelValues, options, onToken);
    };
    streamGeneration(output, context, feedback, *tokenizer, prompt.rendered, run, meter, imagesJson);
}

void runGenerate(CommandOutput &output, CliContext &context, const GenerateCommand &command,
                 core::Feedback &feedback)
{
    if (core::isVisionLanguageFolder(command.model))
        return runGenerateWithImages(output, context, command, feedback);
    if (!command.images.empty())
        throw core::Error("--image needs a vision-language model (" + core::supportedVisionLanguageModels() +
                          "); '" + command.model + "' is a text model");
    core::MemoryMeter meter(context.device);
    meter.reset();
    core::ModelFiles files = core::openModel(command.model);
    if (!command.adapter.empty())
        files.weights = core::mergeAdapterFolder(files, command.adapter); // in memory, as evaluation does
    auto tokenizer = core::openModelText(files).tokenizer;
    const std::string text = command.chat ? renderChat(files, command.prompt, feedback) : command.prompt;
    // A rendered chat template already holds its special tokens.
    const auto promptIds = tokenizer->encode(text, /*addSpecialTokens=*/!command.chat);

    core::CausalLM model(files, modelOptionsFor(context, command), &feedback);
    core::GenerationOptions options = command.options;
    options.stopTokenIds = core::stopTokensFor(files);
    const GenerationRun run = [&](const core::TokenCallback &onToken) {
        return core::generate(model, promptIds, options, onToken, nullptr);
    };
    streamGeneration(output, context, feedback, *tokenizer, text, run, meter);
}

} // namespace

void registerModelCommands(CLI::App &app, CliContext &context)
{
    auto infoModel = std::make_shared<std::string>();
    auto *info = app.add_subcommand(
        "info", "Describe a model: architecture, shape, parameters by kind, weight memory");
    info->add_option("MODEL", *infoModel, "A Hugging Face folder or a .gguf file")->required();
    info->callback([&context, infoModel] {
        runCommand(context, [&context, infoModel](core::Feedback &, CommandOutput &output) {
            if (core::isVisionLanguageFolder(*infoModel)) {
                const core::VisionLanguageFiles vision = core::openVisionLanguageModel(*infoModel);
                printInfo(output, context, vision.language, &vision);
            } else {
                printInfo(output, context, core::openModel(*infoModel));
            }
        });
    });

    auto command = std::make_shared<GenerateCommand>();
    auto *generate =
        app.add_subcommand("generate", "Continue a prompt with the model, streaming the text to stdout");
    generate->add_option("MODEL", command->model, "A Hugging Face folder or a .gguf file")->required();
    generate
        ->add_option("--prompt", command->prompt, "The text to continue (with --chat: the user's message)")
        ->required();
    generate->add_option("--adapter", command->adapter,
                         "A PEFT LoRA adapter folder (e.g. the corrected adapter or export/peft-adapter), "
                         "merged into the weights in memory");
    generate
        ->add_option("--image", command->images,
                     "An image file (JPEG, PNG, WebP) for a vision-language model (InternVL); repeat for "
                     "several. Each <image> in the prompt marks where one goes; without any, the images "
                     "come before the text")
        ->check(CLI::ExistingFile);
    generate->add_flag("--chat", command->chat,
                       "Wrap the prompt in the model's chat template as a user turn");
    generate->add_option("--max-new-tokens", command->options.maxNewTokens, "Tokens to generate at most")
        ->default_val(128)
        ->check(CLI::PositiveNumber);
    generate->add_option("--temperature", command->options.temperature, "0: greedy; above 0: sampling")
        ->default_val(0.0)
        ->check(CLI::NonNegativeNumber);
    generate->add_option("--top-k", command->options.topK, "Sample among the K most likely tokens (0: all)")
        ->default_val(0)
        ->check(CLI::NonNegativeNumber);
    generate->add_option("--top-p", command->options.topP, "Sample within this probability mass (1: all)")
        ->default_val(1.0)
        ->check(CLI::Range(1e-6, 1.0));
    generate
        ->add_option("--repetition-penalty", command->options.repetitionPenalty,
                     "Penalise tokens already present, as transformers does (1: off)")
        ->default_val(1.0)
        ->check(CLI::Range(1e-3, 100.0));
    generate->add_option("--seed", command->options.seed, "Seed of the sampler")->default_val(0);
    generate
        ->add_option("--dtype", command->dtype,
                     "Compute dtype: auto (fp32 on CPU, bf16 on CUDA), fp32, bf16, fp16")
        ->check(floatTypeChoice({"auto", "fp32", "bf16", "fp16"}));
    generate->callback([&context, command] {
        runCommand(context, [&context, command](core::Feedback &feedback, CommandOutput &output) {
            runGenerate(output, context, *command, feedback);
        });
    });

    struct TokenizeCommand
    {
        std::string model, text;
        bool special = false;
    };
    auto tokenize = std::make_shared<TokenizeCommand>();
    auto *tokenizeCommand = app.add_subcommand("tokenize", "Print the token ids of a text as JSON");
    tokenizeCommand->add_option("MODEL", tokenize->model, "A Hugging Face folder or a .gguf file")
        ->required();
    tokenizeCommand->add_option("--text", tokenize->text, "The text to tokenize")->required();
    tokenizeCommand->add_flag("--add-special-tokens", tokenize->special,
                              "Apply the tokenizer's post-processor (e.g. a leading BOS token)");
    tokenizeCommand->callback([&context, tokenize] {
        runCommand(context, [&context, tokenize](core::Feedback &, CommandOutput &output) {
            auto files = core::openModel(tokenize->model);
            auto tokenizer = core::openModelText(files).tokenizer;
            auto ids = tokenizer->encode(tokenize->text, tokenize->special);
            if (!context.json) {
                output.printf("%s\n", nlohmann::json(ids).dump().c_str());
                return;
            }
            nlohmann::json tokens = nlohmann::json::array();
            for (int64_t id : ids)
                tokens.push_back(tokenizer->idToToken(id));
            output.setJson({{"ids", ids}, {"tokens", tokens}});
        });
    });
}

} // namespace emloc::cli
