#pragma once

#include "emloc/api/job.h"

#include <map>
#include <string>

namespace emloc::ui {

// The engine's stages time their samples from their own start: training restarts at 0 s once the emulator
// is built. The Run page needs one clock for the memory plot, the Elapsed card and the stage table, so a
// stage first seen behind the job's clock is moved to start where the job's clock stands. Validation runs
// on training's clock. Samples already on a job-wide clock pass unchanged.
class JobClock
{
public:
    void reset();
    core::MetricSample toJobClock(core::MetricSample sample);

private:
    std::map<std::string, double> m_offsets; // per stage clock
    double m_now = 0;
};

} // namespace emloc::ui
