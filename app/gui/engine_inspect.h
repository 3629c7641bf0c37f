#pragma once
// The Model and Data pages' checks, made by the engine's own readers (core's openModel and
// DatasetReader): the Studio accepts and refuses exactly what `emloc run` and `emloc data inspect` do.

#include "inspect/inspection.h"

namespace emloc::gui {

struct EngineInspection
{
    // A model folder or GGUF file: metadata and tensor shapes only, never the weights.
    static ui::ModelSummary model(const QString &path);
    // A training file: its format, its record count (estimated past the first megabytes) and the first
    // records, every record read checked as training checks it.
    static ui::DatasetSummary dataset(const QString &path);
};

} // namespace emloc::gui
