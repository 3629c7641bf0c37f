#pragma once

#include "emloc/api/job.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace emloc::ui {

struct LogLine
{
    core::LogLevel level = core::LogLevel::Info;
    QString text;
    double elapsedSeconds = 0; // since the job started
};

struct StageProgress
{
    QString stage;
    qint64 done = 0;
    qint64 total = 0;
};

// What a job reported since the previous GUI tick: delivered as one batch, never per sample.
struct JobUpdates
{
    std::vector<core::MetricSample> metrics;
    std::vector<LogLine> logs;
    std::vector<StageProgress> progress; // the latest report per stage, in order of first report
    qint64 droppedLogLines = 0;          // a job that logs faster than anyone can read loses the excess

    bool isEmpty() const
    {
        return metrics.empty() && logs.empty() && progress.empty() && droppedLogLines == 0;
    }
};

// How a job ended, in Qt terms so it can cross threads in a queued signal.
struct JobOutcome
{
    enum class Status { Succeeded, Cancelled, Failed };
    Status status = Status::Succeeded;
    QString message;
    QString jobName;
    double elapsedSeconds = 0;
};

} // namespace emloc::ui

Q_DECLARE_METATYPE(emloc::ui::JobUpdates)
Q_DECLARE_METATYPE(emloc::ui::JobOutcome)
