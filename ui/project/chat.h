#pragma once

#include "project/project.h"

#include <QString>

#include <functional>

namespace emloc::ui {

// Answers `prompt` (with the image file `image`, when not empty: a vision-language model's) with the
// project's original model ("original") or the original with the last run's corrected adapter merged in
// ("corrected"), passing the text on piece by piece as it is generated; `onText` returning false stops
// early. Runs on a worker thread (app/gui/engine_jobs.cpp); throws with a message for a person when the
// model, the adapter or the image cannot be loaded.
using ChatGenerator =
    std::function<void(const Project &project, const QString &which, const QString &prompt,
                       const QString &image, const std::function<bool(const QString &piece)> &onText)>;

} // namespace emloc::ui
