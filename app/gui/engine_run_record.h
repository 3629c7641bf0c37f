#pragma once
// A run folder read with the engine's own reader of its summary (core::readPipelineSummary), for the
// Results and Run pages: the Studio shows what `emloc run` recorded, with no parser of its own.

#include "jobs/run_record.h"

namespace emloc::gui {

ui::RunRecord readRunRecord(const QString &runFolder);

} // namespace emloc::gui
