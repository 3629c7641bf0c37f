// Stage 1 on the demo model (SmolLM2-135M-Instruct, GGUF) with 64 samples of the demo dataset at ratio 0.4:
// construction time and peak memory against the peak of inference of the full model, and the loss of
// both on the calibration samples.
#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

using emloc::test::runCli;
using Args = std::vector<std::string>;

using namespace emloc::test;

namespace {
Args operator+(Args first, const Args &second)
{
    first.insert(first.end(), second.begin(), second.end());
    return first;
}

} // namespace

TEST_CASE(buildTheDemoEmulator)
{
    emloc::test::TempDir dir;
    const std::string model = emloc::test::demoGgufPath();
    VERIFY2(emloc::test::fileExists(model), model + " is missing: run scripts/setup.sh");
    const std::string data = emloc::test::sourceDir() + "/resources/demo/bookings-train.jsonl";
    const std::string out = dir.filePath("smollm-emulator");
    const Args common{"--data", data, "--calibration-samples", "64", "--json"};
    auto build = runCli(Args{"build-emulator", model, "--out", out, "--ratio", "0.4"} + common, 1500000);
    VERIFY2(build.exitCode == 0, tail(build.err));
    auto original = runCli(Args{"evaluate-loss", model} + common, 900000);
    VERIFY2(original.exitCode == 0, tail(original.err));
    auto emulator = runCli(Args{"evaluate-loss", out} + common, 900000);
    VERIFY2(emulator.exitCode == 0, tail(emulator.err));
    const nlohmann::json built = jsonObjectOf(build.out);
    const nlohmann::json inference = jsonObjectOf(original.out);
    const nlohmann::json emulated = jsonObjectOf(emulator.out);
    const double mib = 1 << 20;
    emloc::test::info(format(
        "SmolLM2-135M, 64 samples (%lld tokens), ratio 0.4: construction %.1f s, peak %.1f MiB (planner "
        "%.1f "
        "MiB); inference of the full model: peak %.1f MiB; parameters %.2f M -> %.2f M; mean retained "
        "energy %.4f; loss original %.4f, emulator %.4f",
        (long long)integerOf(member(built, "calibration_tokens")), numberOf(member(built, "seconds")),
        numberOf(member(built, "peak_memory_bytes")) / mib,
        numberOf(member(built, "predicted_peak_bytes")) / mib,
        numberOf(member(inference, "peak_memory_bytes")) / mib,
        numberOf(member(member(built, "parameters"), "original")) / 1e6,
        numberOf(member(member(built, "parameters"), "emulator")) / 1e6,
        numberOf(member(built, "mean_retained_energy")), numberOf(member(inference, "loss")),
        numberOf(member(emulated, "loss"))));
    VERIFY(numberOf(member(built, "peak_memory_bytes")) < numberOf(member(inference, "peak_memory_bytes")));
    VERIFY(numberOf(member(emulated, "loss")) > numberOf(member(inference, "loss")));
    VERIFY(std::isfinite(numberOf(member(emulated, "loss"))));
}
