#pragma once
// Where EMLoC Studio meets the engine: a project becomes the engine's pipeline configuration, and the
// Run and Export buttons become jobs that run it. The only GUI code that sees LibTorch.

#include "main_window.h"

namespace emloc::gui {

// The pipeline configuration a project stands for (paths, budget or ratio, LoRA and optimizer settings,
// export formats).
struct PipelineJobs
{
    // Run: the three stages, the evaluation on the held-out file and the chosen exports.
    static ui::JobFunction training(const ui::Project &project);
    // Export: the chosen formats again from the corrected adapter of the last run.
    static ui::JobFunction exporting(const ui::Project &project);
    // The Budget page's preview: the planner's memory(ratio) for the project's model and settings.
    static ui::PlanPreview plan(const ui::Project &project);
    // "What fits": the catalog's models planned against a memory size with the project's settings.
    static ui::CatalogFits catalogFits(const ui::Project &project, const ui::CatalogQuery &query);
    // The Data page's statistics: the training file rendered and tokenized as training will see it.
    static ui::DatasetStats datasetStats(const ui::Project &project);
    // The Results page's chat: the original model, or it with the last run's corrected adapter merged.
    static void chat(const ui::Project &project, const QString &which, const QString &prompt,
                     const QString &image, const std::function<bool(const QString &piece)> &onText);
};

} // namespace emloc::gui
