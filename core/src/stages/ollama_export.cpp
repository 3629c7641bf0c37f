#include "ollama_export.h"

#include "emloc/api/error.h"
#include "emloc/api/version.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/staging_folder.h"
#include "emloc/model/generation.h"
#include "emloc/text/model_text.h"
#include "emloc/text/tokenizer.h"

#include <filesystem>

namespace emloc::core {

namespace fs = std::filesystem;

namespace {

// Ollama's runner adds the model's BOS itself (tokenizer.ggml.add_bos_token), so its templates leave it out.
constexpr const char *kChatMLTemplate = "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
                                        "{{ .Content }}<|im_end|>\n"
                                        "{{ end }}<|im_start|>assistant\n";
constexpr const char *kLlama3Template =
    "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>\n"
    "{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

// A conversation with every role, so a template's family shows in how it renders it.
const std::vector<ChatMessage> kProbe = {{"system", "Answer briefly."},
                                         {"user", "What is two plus two?"},
                                         {"assistant", "Four."},
                                         {"user", "And three plus three?"}};

std::string tripleQuoted(const std::string &text)
{
    if (text.find("\"\"\"") != std::string::npos)
        throw Error("a Modelfile value cannot hold three double quotes in a row: " + text.substr(0, 80));
    return "\"\"\"" + text + "\"\"\"";
}

} // namespace

std::string ollamaTemplate(const ChatTemplate &chatTemplate, std::string &defaultSystem)
{
    const std::string rendered = chatTemplate.render(kProbe, true);
    for (const auto &[kind, goTemplate] : {std::pair{TemplateKind::ChatML, kChatMLTemplate},
                                           std::pair{TemplateKind::Llama3, kLlama3Template}}) {
        const ChatTemplate family =
            ChatTemplate::builtin(kind, chatTemplate.bosToken(), chatTemplate.eosToken());
        if (family.render(kProbe, true) != rendered)
            continue;
        // A conversation without a system turn: the template may put its own in (Qwen2.5's does).
        const std::vector<ChatMessage> question(kProbe.begin() + 1, kProbe.begin() + 2);
        const std::string withoutSystem = chatTemplate.render(question, true);
        defaultSystem.clear();
        if (withoutSystem != family.render(question, true)) {
            const std::string marker = "\x01";
            std::vector<ChatMessage> withMarker = question;
            withMarker.insert(withMarker.begin(), {"system", marker});
            const std::string shape = family.render(withMarker, true);
            const size_t at = shape.find(marker);
            const std::string before = shape.substr(0, at), after = shape.substr(at + marker.size());
            if (withoutSystem.size() < before.size() + after.size() || withoutSystem.rfind(before, 0) != 0 ||
                withoutSystem.compare(withoutSystem.size() - after.size(), after.size(), after) != 0)
                throw Error("the model's chat template renders a conversation without a system turn in a way "
                            "Ollama's template cannot follow; give the run a system prompt");
            defaultSystem =
                withoutSystem.substr(before.size(), withoutSystem.size() - before.size() - after.size());
        }
        return goTemplate;
    }
    throw Error(
        "the chat template '" + chatTemplate.name() +
        "' is not one the Ollama export writes a TEMPLATE for (ChatML, Llama 3); export gguf-lora and "
        "write the Modelfile's TEMPLATE by hand");
}

ExportResult exportOllama(const ExportOptions &options, const ModelFiles &model,
                          const VisionLanguageFiles *vision, Feedback *feedback)
{
    const ModelText text = openModelText(model, options.chatTemplate, feedback);
    std::string system;
    const std::string goTemplate = ollamaTemplate(text.chatTemplate, system);
    if (!options.systemPrompt.empty())
        system = options.systemPrompt; // what the run trained with
    std::string stops;
    for (int64_t id : stopTokensFor(model, text.chatTemplate, *text.tokenizer)) {
        const std::string token = text.tokenizer->idToToken(id);
        if (!token.empty() && token.find('"') == std::string::npos)
            stops += "PARAMETER stop \"" + token + "\"\n";
    }

    StagingFolder staging(options.outPath, options.overwrite);
    // The adapter through the GGUF LoRA export (read back and compared there).
    ExportOptions adapter = options;
    adapter.format = ExportFormat::GgufLora;
    adapter.outPath = staging.file("adapter.gguf");
    adapter.dtype = "auto";
    adapter.overwrite = true;
    ExportResult result = runExport(adapter, feedback);
    // The base model: a GGUF original as it is (Ollama copies it when it creates the model), a folder
    // converted as `emloc export-gguf` converts it.
    std::string from;
    if (model.format == "gguf") {
        from = fs::absolute(model.path).lexically_normal().string();
    } else {
        const std::string dtype = model.config.torchDtype == "float32" ? "F32" : "F16";
        writeGgufModel(model, staging.file("model.gguf"), dtype, feedback);
        const ModelFiles written = openModel(staging.file("model.gguf")); // loads as Ollama's runner would
        if (written.config.numLayers != model.config.numLayers)
            throw Error(
                "Verification of the Ollama base model failed: it did not read back as written; nothing "
                "was saved to '" +
                options.outPath + "'.");
        from = "./model.gguf";
    }
    if (vision) { // Ollama takes a projector as a second FROM (a GGUF of architecture "clip")
        ExportOptions projector = options;
        projector.format = ExportFormat::GgufMmproj;
        projector.outPath = staging.file("mmproj.gguf");
        projector.dtype = model.config.torchDtype == "float32" ? "F32" : "F16";
        projector.overwrite = true;
        runExport(projector, feedback);
        from += "\nFROM ./mmproj.gguf";
    }

    std::string modelfile = "# Made by " + std::string(kProductName) + " " + kVersion + ": " +
                            options.modelPath + " with the adapter " + options.adapterPath + ".\n" +
                            "# In this folder: ollama create NAME -f Modelfile, then ollama run NAME\n" +
                            "FROM " + from + "\nADAPTER ./adapter.gguf\nTEMPLATE " +
                            tripleQuoted(goTemplate) + "\n";
    if (!system.empty())
        modelfile += "SYSTEM " + tripleQuoted(system) + "\n";
    modelfile += stops;
    writeFileAtomically(staging.file("Modelfile"), modelfile);
    staging.commit();
    return result;
}

} // namespace emloc::core
