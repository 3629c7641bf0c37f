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
    // The model is a vision-language model, whose vision tower the emulator may compress too.
    bool visionLanguage = false;
    // Several GPUs: each runs one process of the job with its share of stages 1 and 2; their peaks at the
    // ratio in use (the later stages run on the first GPU alone, as planned above).
    int processes = 1;
    qint64 processConstructionBytes = 0;
    qint64 processFineTuningBytes = 0;
    // One training step at the ratio in use (seconds; -1: unknown): scaled from the run folder's last
    // training when there is one (else a lower bound from the device's matrix-product rate), for the job's
    // processes together and for one.
    double stepSeconds = -1;
    double singleProcessStepSeconds = -1;
    bool stepFromLastRun = false;
    double flopsPerSecond = 0; // the device's matrix-product rate behind a lower bound
};

using PlanProvider = std::function<PlanPreview(const Project &project)>;

// "What fits on this device": the question asked of the built-in catalog of popular models. The other
// settings the planner needs (batch, LoRA rank and targets, refinement) are the project's.
struct CatalogQuery
{
    qint64 memoryBytes = 0;
    bool cuda = false;
    int valueBytes = 0; // 2 (bf16/fp16) or 4 (fp32); 0: the device's (bf16 on CUDA, fp32 on the CPU)
    int sequenceLength = 512;
};

// One catalog model against a CatalogQuery, as the planner sees it (no weights are read).
struct CatalogFit
{
    QString name;       // "llama-3.1-8b"
    QString repository; // where it is downloaded from
    qint64 parameters = 0;
    qint64 inferenceBytes = 0;
    bool inferenceFits = false;
    qint64 fullLoraBytes = 0;
    bool fullLoraFits = false;
    bool emlocFits = false;
    double emlocRatio = 0;     // the largest ratio whose stages fit
    qint64 emlocPeakBytes = 0; // at emlocRatio (at the smallest ratio when nothing fits)
    QString caveat;            // what the ratio means for quality
};

// Empty with `error` set when the catalog cannot be planned (it names why).
struct CatalogFits
{
    QString error;
    std::vector<CatalogFit> models; // smallest first
};

using CatalogFitProvider = std::function<CatalogFits(const Project &project, const CatalogQuery &query)>;

} // namespace emloc::ui
