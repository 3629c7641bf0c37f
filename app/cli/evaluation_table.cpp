#include "evaluation_table.h"

#include <cstdio>
#include <string>

namespace emloc::cli {

namespace {

std::string modelTitle(const std::string &name, bool correctedRefined)
{
    if (name == "original")
        return "original (no fine-tuning)";
    if (name == "original+lora")
        return "original + LoRA, uncorrected";
    if (name == "original+corrected")
        return correctedRefined ? "original + LoRA, corrected + refined (EMLoC)"
                                : "original + LoRA, corrected (EMLoC)";
    if (name == "emulator+lora")
        return "emulator + LoRA";
    return name;
}

std::string share(int64_t count, int64_t total, double rate)
{
    if (rate < 0)
        return "-";
    char text[48];
    std::snprintf(text, sizeof text, "%lld/%lld (%.0f%%)", static_cast<long long>(count),
                  static_cast<long long>(total), 100.0 * rate);
    return text;
}

} // namespace

void printEvaluationTable(CommandOutput &output, const core::EvaluationResult &result, bool samples)
{
    output.printf("\nHeld-out data: %lld examples from %s\n", static_cast<long long>(result.examples),
                  result.source.empty() ? "the held-out file" : result.source.c_str());
    const std::string match = result.metric + " match";
    output.printf("%-44s %8s %10s %16s %16s %8s\n", "Model", "loss", "perplexity", match.c_str(), "stopped",
                  "seconds");
    for (const auto &m : result.models)
        output.printf("%-44s %8.4f %10.3f %16s %16s %8.1f\n",
                      modelTitle(m.name, result.correctedRefined).c_str(), m.loss, m.perplexity,
                      share(m.matched, m.generated, m.matchRate).c_str(),
                      share(m.stopped, m.generated, m.stopRate).c_str(), m.seconds);
    output.printf("'stopped': answers that ended on an end token by themselves, not at the token limit.\n");
    if (!samples)
        return;
    for (const auto &m : result.models)
        for (const auto &sample : m.samples)
            output.printf("  [%s] %s%s | expected: %s | got: %s\n", m.name.c_str(),
                          sample.match ? "ok  " : "miss", sample.stopped ? "" : " (no stop)",
                          sample.reference.c_str(), sample.generated.c_str());
}

} // namespace emloc::cli
