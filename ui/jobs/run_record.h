#pragma once

#include "emloc/api/job.h"
#include "emloc/api/stages.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <vector>

namespace emloc::ui {

// A finished run as its folder records it (the engine's summary.json and the training's metrics), so the
// Results and Run pages can show a run the Studio did not watch: one opened with its project, or the
// demo after scripts/demo.sh. The engine's reader fills it (app/gui).
struct RunRecord
{
    struct StageReport
    {
        core::Stage stage = core::Stage::Emulator;
        bool reused = false; // made by an earlier run from the same inputs and settings
        double seconds = 0;
        qint64 peakBytes = -1;
        qint64 plannedPeakBytes = -1; // -1: a stage the planner does not plan
    };

    QDateTime finished; // when the summary was written
    double ratio = 0;
    std::vector<StageReport> stages; // empty: the folder holds no finished run
    QJsonObject summary; // the summary itself: its evaluation, as ResultsPage::setEvaluation reads it
    std::vector<core::MetricSample> trainingMetrics;
    QString error; // the summary is there but could not be read: what is wrong, for a person

    bool finishedRun() const { return !stages.empty(); }
};

// Reads the run in a folder; called on the GUI thread (small files only).
using RunRecordReader = std::function<RunRecord(const QString &runFolder)>;

} // namespace emloc::ui
