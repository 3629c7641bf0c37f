#pragma once
// The held-out comparison as the terminal shows it, for `emloc run` and `emloc evaluate`.

#include "cli_context.h"
#include "emloc/stages/evaluate.h"

namespace emloc::cli {

// One row per model: loss, perplexity, match (exact by default) and the share of answers that stopped
// by themselves. `samples`: also print the kept samples, each with what was expected and what came.
void printEvaluationTable(CommandOutput &output, const core::EvaluationResult &result, bool samples);

} // namespace emloc::cli
