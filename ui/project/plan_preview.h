#pragma once

#include "project/project.h"

#include <QString>

#include <functional>
#include <vector>

namespace emloc::ui {

// The planner's memory of every stage at one compression ratio (bytes).
struct PlanPoint
{
    double ratio = 0;
    qint64 inferenceBytes = 0;
    qint64 constructionBytes = 0;
    qint64 fineTuningBytes = 0;
    qint64 correctionBytes = 0;
};

// What the Budget page shows before anything runs: memory(ratio) for the chosen model and settings and
// the ratio the run will use. Computed by the engine (app/gui/engine_jobs.cpp) from the model's config.
struct PlanPreview
{
    QString error; // why there is no preview (no model yet, unreadable config); empty otherwise
    std::vector<PlanPoint> curve;
    double ratio = -1; // the ratio the run will use: the planner's choice in budget mode
    bool fits = true;  // budget mode: some ratio fits the budget
    QString advice;    // when nothing fits: what to change
    qint64 budgetBytes = 0;
    // Refinement of the last layers on the original model (after stage 3, on by default): its peak does
    // not depend on the ratio; 0 when the run does not refine. Over the budget, the run skips it.
    qint64 refinementBytes = 0;
};

using PlanProvider = std::function<PlanPreview(const Project &project)>;

} // namespace emloc::ui
