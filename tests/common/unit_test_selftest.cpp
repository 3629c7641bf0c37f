// The harness checked against itself: cases that must pass, fail or skip, each in the way the runner
// reports. ctest passes this program only when its output holds the expected verdicts (tests/CMakeLists).
#include "child_process.h"
#include "unit_test.h"

#include <stdexcept>
#include <vector>

using namespace emloc::test;

TEST_CASE(comparesLikeQtTest)
{
    COMPARE(0.1 + 0.2, 0.3); // floating point within 12 significant digits
    COMPARE(1e-13, 0.0);     // an expected 0 asks for |actual| <= 1e-12
    COMPARE(size_t(3), 3);   // integers of mixed signedness compare by value
    const std::string name = "x";
    COMPARE(name.c_str(), "x"); // C strings compare by content
    COMPARE(joined({"a", "b"}, ", "), "a, b");
    COMPARE(trimmed("  a b \n"), "a b");
    COMPARE(format("%.2f|%s", 1.5, "z"), "1.50|z");
    COMPARE(tail("abcdef", 2), "ef");
    VERIFY_THROWS(std::runtime_error, throw std::runtime_error("expected"));
}

TEST_CASE(runsChildProcesses)
{
    const ProcessResult echo = runProcess("sh", {"-c", "cat; echo err >&2; exit 3"}, {1000, "in", {}});
    COMPARE(echo.exitCode, 3);
    COMPARE(echo.out, "in");
    COMPARE(echo.err, "err\n");
    const ProcessResult slow = runProcess("sleep", {"5"}, {200, {}, {}});
    VERIFY(slow.timedOut);
    const ProcessResult env =
        runProcess("sh", {"-c", "printf %s \"$EMLOC_SELFTEST\""}, {1000, {}, {{"EMLOC_SELFTEST", "1"}}});
    COMPARE(env.out, "1");
    COMPARE(lastLine("a\n{\"b\": 1}\n\n"), "{\"b\": 1}");
}

TEST_CASE(mustFailOnAFloat)
{
    COMPARE(1.0, 1.0001);
}

TEST_CASE(mustFailNamingItsRow)
{
    for (int i : {1, 2, 3}) {
        Row row("row " + std::to_string(i));
        VERIFY2(i < 2, str("i = ", i));
    }
}

TEST_CASE(mustFailOnAnException)
{
    throw std::runtime_error("boom");
}

TEST_CASE(mustFailWithoutTheException)
{
    VERIFY_THROWS(std::runtime_error, (void)0);
}

TEST_CASE(mustSkip)
{
    SKIP("skipped on purpose");
}
