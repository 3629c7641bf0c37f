#include "jobs/run_summary.h"

#include <QCoreApplication>
#include <QFile>
#include <QSaveFile>

#include "emloc/api/stages.h"

#include <algorithm>
#include <optional>

namespace emloc::ui {

RunSummary summarizeRun(const std::vector<core::MetricSample> &samples,
                        const std::vector<core::MetricSample> &history)
{
    RunSummary summary;
    std::vector<double> trainingLosses;
    qint64 firstTrainingStep = -1;
    double tokensPerSecondSum = 0;
    qint64 tokensPerSecondCount = 0;
    std::vector<double> stageStart;

    for (const core::MetricSample &sample : samples) {
        const std::optional<core::Stage> known = core::stageFromKey(sample.stage);
        if (sample.validationLoss >= 0 && known == core::Stage::Validate) { // training's, not refinement's
            summary.finalValidationLoss = sample.validationLoss;
            if (summary.bestValidationLoss < 0 || sample.validationLoss < summary.bestValidationLoss) {
                summary.bestValidationLoss = sample.validationLoss;
                summary.bestValidationStep = sample.step;
            }
        }
        // Validation passes are part of fine-tuning (or refinement), on its clock: not a stage of their
        // own in the table.
        if (known && core::clockStage(*known) != *known)
            continue;
        const QString stage = QString::fromStdString(sample.stage);
        auto it = std::find_if(summary.stages.begin(), summary.stages.end(),
                               [&](const RunSummary::StageSummary &s) { return s.stage == stage; });
        if (it == summary.stages.end()) {
            summary.stages.push_back({stage, 0, 0, 0, -1});
            stageStart.push_back(sample.elapsedSeconds);
            it = summary.stages.end() - 1;
        }
        const std::size_t index = static_cast<std::size_t>(it - summary.stages.begin());
        ++it->samples;
        summary.elapsedSeconds = std::max(summary.elapsedSeconds, sample.elapsedSeconds);
        it->lastStep = std::max<qint64>(it->lastStep, sample.step);
        it->seconds = std::max(it->seconds, sample.elapsedSeconds - stageStart[index]);
        it->peakBytes = std::max<qint64>({it->peakBytes, sample.peakMemoryBytes, sample.memoryBytes});
        summary.peakBytes = std::max<qint64>({summary.peakBytes, sample.peakMemoryBytes, sample.memoryBytes});

        if (known == core::Stage::Train && sample.loss >= 0) {
            if (trainingLosses.empty())
                firstTrainingStep = sample.step;
            trainingLosses.push_back(sample.loss);
            summary.trainingSteps = std::max<qint64>(summary.trainingSteps, sample.step);
        }
        if (known == core::Stage::Train && sample.tokensPerSecond >= 0) {
            tokensPerSecondSum += sample.tokensPerSecond;
            ++tokensPerSecondCount;
        }
    }
    if (!trainingLosses.empty()) {
        summary.firstTrainingLoss = trainingLosses.front();
        summary.finalTrainingLoss = trainingLosses.back();
        // A resumed training starts after step 1: its earlier steps are only in the folder's file.
        qint64 earliest = firstTrainingStep;
        for (const core::MetricSample &sample : history) {
            if (core::stageFromKey(sample.stage) == core::Stage::Train && sample.loss >= 0 &&
                sample.step < earliest) {
                earliest = sample.step;
                summary.firstTrainingLoss = sample.loss;
            }
        }
    }
    if (tokensPerSecondCount > 0)
        summary.meanTokensPerSecond = tokensPerSecondSum / static_cast<double>(tokensPerSecondCount);
    return summary;
}

std::vector<core::MetricSample> readMetricsFile(const QString &path)
{
    std::vector<core::MetricSample> samples;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return samples;
    while (!file.atEnd()) {
        // The engine's own reader of its metrics lines; a line that is not one (cut short) is skipped.
        const nlohmann::json line = nlohmann::json::parse(file.readLine().toStdString(), nullptr, false);
        if (!line.is_object() || !line.contains("stage") || !line["stage"].is_string())
            continue;
        try {
            samples.push_back(core::metricSampleFromJson(line));
        } catch (const nlohmann::json::exception &) {
        }
    }
    return samples;
}

bool writeMetricsCsv(const QString &path, const std::vector<core::MetricSample> &samples, QString *error)
{
    QByteArray text =
        "stage,step,total_steps,elapsed_s,loss,validation_loss,learning_rate,grad_norm,tokens_per_s,"
        "eta_s,memory_bytes,peak_memory_bytes\n";
    const auto number = [](double value) {
        return value < 0 ? QByteArray() : QByteArray::number(value, 'g', 10);
    };
    const auto integer = [](qint64 value) { return value < 0 ? QByteArray() : QByteArray::number(value); };
    for (const core::MetricSample &s : samples) {
        text += QByteArray::fromStdString(s.stage) + ',' + QByteArray::number(s.step) + ',' +
                QByteArray::number(s.totalSteps) + ',' + QByteArray::number(s.elapsedSeconds, 'f', 3) + ',' +
                number(s.loss) + ',' + number(s.validationLoss) + ',' + number(s.learningRate) + ',' +
                number(s.gradNorm) + ',' + number(s.tokensPerSecond) + ',' + number(s.etaSeconds) + ',' +
                integer(s.memoryBytes) + ',' + integer(s.peakMemoryBytes) + '\n';
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
        if (error)
            *error = QCoreApplication::translate("emloc::ui::RunSummary", "Cannot write \"%1\": %2.")
                         .arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace emloc::ui
