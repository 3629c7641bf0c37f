#include "jobs/job_clock.h"

#include <algorithm>

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
    const std::string clock = sample.stage == "validate"          ? std::string("train")
                              : sample.stage == "refine-validate" ? std::string("refine")
                                                                  : sample.stage;
    auto offset = m_offsets.find(clock);
    if (offset == m_offsets.end())
        // A clock behind the job's started when the job's clock stood where it stands now.
        offset = m_offsets.emplace(clock, sample.elapsedSeconds < m_now ? m_now : 0.0).first;
    sample.elapsedSeconds += offset->second;
    m_now = std::max(m_now, sample.elapsedSeconds);
    return sample;
}

} // namespace emloc::ui
