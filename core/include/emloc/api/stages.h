#pragma once
// A run's stages, one vocabulary for the engine's progress and metric samples, summary.json, the CLI's
// table and the Studio: each keeps the enumeration and maps it to its own words, never to another
// string list. Torch-free, so the Studio's widgets include it.

#include <array>
#include <optional>
#include <string_view>

namespace emloc::core {

enum class Stage {
    Emulator,       // stage 1 as a whole, as the pipeline reports it
    Calibrate,      // stage 1: the calibration samples through the original model
    Build,          // stage 1: activation-aware SVD, layer by layer
    Write,          // stage 1: the emulator's files
    Train,          // stage 2: LoRA on the emulator
    Validate,       // stage 2: the validation loss
    Correct,        // stage 3: the LoRA correction
    Refine,         // stage 3, beyond the paper: the last layers' LoRA on the original model
    RefineValidate, // the refinement's validation loss, apart from training's
    Evaluate,       // the held-out comparison of the four models
    Export,         // the run's exports
};

namespace detail {
struct StageEntry
{
    Stage stage;
    std::string_view key; // as written in metrics.jsonl, summary.json and progress labels
    int methodStage;      // 1, 2 or 3; 0: not one of the method's stages
    bool hasSubject;      // its progress names what it works on after the key ("evaluate original")
};
inline constexpr std::array<StageEntry, 11> kStages{{
    {Stage::Emulator, "emulator", 1, false},
    {Stage::Calibrate, "calibrate", 1, false},
    {Stage::Build, "build", 1, false},
    {Stage::Write, "write", 1, false},
    {Stage::Train, "train", 2, false},
    {Stage::Validate, "validate", 2, false},
    {Stage::Correct, "correct", 3, false},
    {Stage::Refine, "refine", 3, false},
    {Stage::RefineValidate, "refine-validate", 3, false},
    {Stage::Evaluate, "evaluate", 0, true},
    {Stage::Export, "export", 0, true},
}};
} // namespace detail

// The stage's name in files and progress labels ("train", "refine-validate").
constexpr std::string_view stageKey(Stage stage)
{
    for (const auto &entry : detail::kStages)
        if (entry.stage == stage)
            return entry.key;
    return {};
}

// The stage a key names, also as a progress label with its subject ("evaluate original", "export
// adapter.gguf"). nullopt for labels that are not a run's stage ("load", "generate", "write GGUF").
constexpr std::optional<Stage> stageFromKey(std::string_view key)
{
    for (const auto &entry : detail::kStages)
        if (key == entry.key ||
            (entry.hasSubject && key.size() > entry.key.size() &&
             key.substr(0, entry.key.size()) == entry.key && key[entry.key.size()] == ' '))
            return entry.stage;
    return std::nullopt;
}

// Which of the method's three stages it belongs to: 1 emulator, 2 LoRA on it, 3 correction (refinement
// included); 0 for the evaluation and the export, which the budget does not plan.
constexpr int methodStage(Stage stage)
{
    for (const auto &entry : detail::kStages)
        if (entry.stage == stage)
            return entry.methodStage;
    return 0;
}

// A validation's stage counts its time and steps against the training it validates.
constexpr Stage clockStage(Stage stage)
{
    return stage == Stage::Validate ? Stage::Train : stage == Stage::RefineValidate ? Stage::Refine : stage;
}

} // namespace emloc::core
