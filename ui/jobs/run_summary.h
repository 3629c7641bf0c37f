#pragma once

#include "jobs/job_updates.h"

#include <QString>

#include <vector>

namespace emloc::ui {

// The numbers the Results page shows, computed from a run's metric samples.
struct RunSummary
{
    struct StageSummary
    {
        QString stage;
        qint64 samples = 0;
        qint64 lastStep = 0;
        double seconds = 0; // from its first to its last sample
        qint64 peakBytes = -1;
    };

    double elapsedSeconds = 0; // the latest sample's time since the job started
    qint64 trainingSteps = 0;
    double firstTrainingLoss = -1; // step 1's, also when this run resumed a training begun earlier
    double finalTrainingLoss = -1; // the last step's, as logged
    double bestValidationLoss = -1;
    qint64 bestValidationStep = -1;
    double finalValidationLoss = -1;
    qint64 peakBytes = -1;
    double meanTokensPerSecond = -1;
    std::vector<StageSummary> stages; // in order of appearance
};

// `history`: the training folder's metrics file, which holds every step of the training, also those
// before a resume; the steps of it that come before the run's first training step give the first loss.
RunSummary summarizeRun(const std::vector<core::MetricSample> &samples,
                        const std::vector<core::MetricSample> &history = {});

// A metrics.jsonl file as the engine writes it (one sample per line); empty when it cannot be read.
// Lines that are not samples are skipped.
std::vector<core::MetricSample> readMetricsFile(const QString &path);

// One row per sample, the same fields as the CLI's JSONL metrics. Atomic (QSaveFile).
bool writeMetricsCsv(const QString &path, const std::vector<core::MetricSample> &samples, QString *error);

} // namespace emloc::ui
