#include "jobs/job_clock.h"

#include "emloc/api/stages.h"

#include <algorithm>
#include <optional>

namespace emloc::ui {

void JobClock::reset()
{
    m_offsets.clear();
    m_now = 0;
}

core::MetricSample JobClock::toJobClock(core::MetricSample sample)
{
    if (sample.elapsedSeconds < 0)
        return sample;
    const std::optional<core::Stage> stage = core::stageFromKey(sample.stage);
    const std::string clock = stage ? std::string(core::stageKey(core::clockStage(*stage))) : sample.stage;
    auto offset = m_offsets.find(clock);
    if (offset == m_offsets.end())
        // A clock behind the job's started when the job's clock stood where it stands now.
        offset = m_offsets.emplace(clock, sample.elapsedSeconds < m_now ? m_now : 0.0).first;
    sample.elapsedSeconds += offset->second;
    m_now = std::max(m_now, sample.elapsedSeconds);
    return sample;
}

} // namespace emloc::ui
