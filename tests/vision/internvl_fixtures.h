#pragma once
// The InternVL fixtures of tests/reference/internvl_make_fixtures.py, made once per suite: random-weight
// models (qwen2, internlm2, qwen2_interpolated; each "_hf" and "_original"), transformers' outputs beside
// them, two drawn images (wide.png, tall.png) and a summary (the last line the script prints).
#include "child_process.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace emloc::test {

struct InternVLFixtures
{
    std::unique_ptr<TempDir> dir;
    nlohmann::json summary;
};

inline InternVLFixtures &internVLFixtures()
{
    static InternVLFixtures fixtures;
    return fixtures;
}

// Call from SUITE_SETUP: a failure there skips nothing silently, it fails the suite.
inline void makeInternVLFixtures()
{
    InternVLFixtures &fixtures = internVLFixtures();
    fixtures.dir = std::make_unique<TempDir>();
    const auto result = runPythonScript("internvl_make_fixtures.py", {fixtures.dir->path()}, 600000);
    VERIFY2(result.exitCode == 0, result.err);
    fixtures.summary = nlohmann::json::parse(lastLine(result.out));
    COMPARE(int(fixtures.summary.size()), 4); // the three models and the shipped dataset's tiles
}

} // namespace emloc::test
