// Stage 1 on the demo model (SmolLM2-135M-Instruct, GGUF) with 64 samples of the demo dataset at ratio 0.4:
// construction time and peak memory against the peak of inference of the full model, and the loss of
// both on the calibration samples.
#include "child_process.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

using emloc::test::runCli;
using Args = std::vector<std::string>;

namespace {
// The CLI's JSON report; an empty object when stdout holds none.
nlohmann::json jsonOf(const emloc::test::ProcessResult &result)
{
    auto parsed = nlohmann::json::parse(result.out, nullptr, false);
    return parsed.is_object() ? parsed : nlohmann::json::object();
}

// A number of a report (0 where it is missing or no number).
double number(const nlohmann::json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

// An integer of a report (0 where it is missing or no integer).
long long integer(const nlohmann::json &object, const char *key)
{
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number())
        return 0;
    const double value = it->get<double>();
    return value == std::floor(value) ? it->get<long long>() : 0;
}

// A member object of a report (empty where it is missing).
nlohmann::json member(const nlohmann::json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : nlohmann::json::object();
}

// The last `count` characters of a program's output.
std::string tail(const std::string &text, size_t count = 3000)
{
    return text.size() > count ? text.substr(text.size() - count) : text;
}

Args operator+(Args first, const Args &second)
{
    first.insert(first.end(), second.begin(), second.end());
    return first;
}

// printf-style formatting for the measurements the suite logs.
__attribute__((format(printf, 1, 2))) std::string format(const char *pattern, ...)
{
    char buffer[1024];
    va_list args;
    va_start(args, pattern);
    std::vsnprintf(buffer, sizeof buffer, pattern, args);
    va_end(args);
    return buffer;
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
    const nlohmann::json built = jsonOf(build);
    const nlohmann::json inference = jsonOf(original);
    const nlohmann::json emulated = jsonOf(emulator);
    const double mib = 1 << 20;
    emloc::test::info(format(
        "SmolLM2-135M, 64 samples (%lld tokens), ratio 0.4: construction %.1f s, peak %.1f MiB (planner "
        "%.1f "
        "MiB); inference of the full model: peak %.1f MiB; parameters %.2f M -> %.2f M; mean retained "
        "energy %.4f; loss original %.4f, emulator %.4f",
        integer(built, "calibration_tokens"), number(built, "seconds"),
        number(built, "peak_memory_bytes") / mib, number(built, "predicted_peak_bytes") / mib,
        number(inference, "peak_memory_bytes") / mib, number(member(built, "parameters"), "original") / 1e6,
        number(member(built, "parameters"), "emulator") / 1e6, number(built, "mean_retained_energy"),
        number(inference, "loss"), number(emulated, "loss")));
    VERIFY(number(built, "peak_memory_bytes") < number(inference, "peak_memory_bytes"));
    VERIFY(number(emulated, "loss") > number(inference, "loss"));
    VERIFY(std::isfinite(number(emulated, "loss")));
}
