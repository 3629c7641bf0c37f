#include "engine_run_record.h"

#include "jobs/run_summary.h"

#include "emloc/api/error.h"
#include "emloc/api/run_folder.h"
#include "emloc/stages/pipeline.h"

#include <QFileInfo>
#include <QJsonDocument>

#include <optional>

namespace emloc::gui {

ui::RunRecord readRunRecord(const QString &runFolder)
{
    ui::RunRecord record;
    const core::RunFolder folder{runFolder.toStdString()};
    std::optional<core::PipelineResult> result;
    try {
        result = core::readPipelineSummary(runFolder.toStdString());
    } catch (const core::Error &error) {
        record.error = QString::fromStdString(error.what());
        return record;
    }
    if (!result)
        return record;
    record.finished = QFileInfo(QString::fromStdString(folder.summary().string())).lastModified();
    record.ratio = result->ratio;
    for (const core::StageReport &stage : result->stages)
        record.stages.push_back(
            {stage.stage, stage.skipped, stage.seconds, stage.peakMemoryBytes, stage.plannedPeakBytes});
    // The summary in the engine's own form, written by the engine: the evaluation as the page reads it.
    record.summary = QJsonDocument::fromJson(QByteArray::fromStdString(result->toJson().dump())).object();
    record.trainingMetrics = ui::readMetricsFile(QString::fromStdString(folder.trainingMetrics().string()));
    return record;
}

} // namespace emloc::gui
