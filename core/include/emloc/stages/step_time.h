#pragma once
// How long a training step of a run will take, before it runs: the planner's answer to "is it worth a
// second GPU". Scaled from the run folder's last training when there is one on the same kind of device
// (a measured rate), else a lower bound from the device's matrix-product rate.

#include "emloc/stages/pipeline.h"

#include <functional>

namespace emloc::core {

struct StepTimeEstimate
{
    double seconds = -1;              // one optimizer step of the job, its processes together; -1: unknown
    double singleProcessSeconds = -1; // the same step on one process
    bool fromLastRun = false;         // scaled from measured steps; else `seconds` is a lower bound
    double flopsPerSecond = 0;        // the device's matrix-product rate behind a lower bound; else 0
};

// The step's share of one process of `processes` (whole micro-batches; rows when there are fewer
// micro-batches than processes): the fraction of a step's work each process does.
double processStepShare(int64_t gradAccum, int processes);

// `config` at `ratio` as `processes` processes. `matmulFlopsPerSecond` is called only when there is no last
// run to scale from (measuring a device takes a moment).
StepTimeEstimate estimateStepTime(const PipelineConfig &config, const ModelConfig &model, double ratio,
                                  int processes, const std::function<double()> &matmulFlopsPerSecond);

} // namespace emloc::core
