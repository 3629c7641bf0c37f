#pragma once

#include "project/project.h"

#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace emloc::ui {

// What training will see of the data: the records rendered with the model's chat template and
// tokenized by its tokenizer (computed by the engine in app/gui/engine_jobs.cpp).
struct DatasetStats
{
    QString error; // why there are no statistics (no model or data yet, a bad file); empty otherwise
    QString templateName;
    qint64 records = 0;
    qint64 used = 0;
    qint64 skipped = 0;
    QStringList skipReasons; // "no assistant turn: 3"
    qint64 truncated = 0;
    qint64 maxLengthOption = 0;
    double maskedFraction = 0;
    std::vector<qint64> histogramEdges; // token lengths before truncation: bin i is [edges[i], edges[i+1])
    std::vector<qint64> histogramCounts;
    struct Segment
    {
        QString text;
        bool trained = false;
    };
    qint64 exampleRecord = 0;
    std::vector<Segment> example;
};

// Runs on a worker thread: it must not touch widgets.
using DatasetStatsProvider = std::function<DatasetStats(const Project &project)>;

} // namespace emloc::ui
