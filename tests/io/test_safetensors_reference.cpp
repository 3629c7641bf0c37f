// Interoperability with the reference `safetensors` package: we read what it writes (single files
// with every common dtype, a sharded folder with its index) and it reads what we write, value for value.
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include "child_process.h"
#include "unit_test.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

using namespace emloc::core;
using emloc::test::TempDir;
using nlohmann::json;

namespace {
bool isIntegerDtype(const std::string &dtype)
{
    return dtype[0] == 'I' || dtype[0] == 'U' || dtype == "BOOL";
}

// {"dtype", "shape", "values"} as the fixture script writes them (float64 or int64 values).
json describe(const torch::Tensor &tensor, const std::string &dtype)
{
    json result{{"dtype", dtype}, {"shape", tensor.sizes().vec()}};
    const torch::Tensor flat = tensor.flatten().contiguous();
    if (isIntegerDtype(dtype)) {
        const torch::Tensor values = flat.to(torch::kInt64);
        result["values"] =
            std::vector<int64_t>(values.data_ptr<int64_t>(), values.data_ptr<int64_t>() + values.numel());
    } else {
        const torch::Tensor values = flat.to(torch::kFloat64);
        result["values"] =
            std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
    }
    return result;
}

// Exact comparison in float64 (every stored dtype converts exactly) or int64.
void compareTensor(const torch::Tensor &got, const std::string &gotDtype, const json &expected,
                   const std::string &name)
{
    COMPARE(gotDtype, expected["dtype"].get<std::string>());
    VERIFY2(got.sizes().vec() == expected["shape"].get<std::vector<int64_t>>(), name.c_str());
    const torch::Tensor flat = got.flatten();
    if (isIntegerDtype(gotDtype)) {
        const auto values = expected["values"].get<std::vector<int64_t>>();
        VERIFY2(torch::equal(flat.to(torch::kInt64), torch::tensor(values, torch::kInt64)), name.c_str());
    } else {
        const auto values = expected["values"].get<std::vector<double>>();
        const torch::Tensor want = torch::tensor(values, torch::kFloat64);
        const double maxError =
            values.empty() ? 0.0 : (flat.to(torch::kFloat64) - want).abs().max().item<double>();
        VERIFY2(maxError == 0.0, emloc::test::str(name, ": max |error| ", maxError));
    }
}
} // namespace

TEST_CASE(readsFilesWrittenByPython)
{
    TempDir dir;
    const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"safetensors", dir.path()});
    VERIFY2(result.exitCode == 0, result.err);
    const json expected = json::parse(readTextFile(dir.filePath("expected.json")));

    SafetensorsFile mixed(dir.filePath("mixed.safetensors"));
    COMPARE(mixed.names().size(), expected["mixed"].size());
    COMPARE(json(mixed.metadata()), expected["metadata"]);
    for (const auto &[name, want] : expected["mixed"].items())
        compareTensor(mixed.tensor(name), mixed.info(name).dtype, want, name);

    SafetensorsModel sharded(dir.filePath("sharded"));
    COMPARE(sharded.names().size(), expected["sharded"].size());
    for (const auto &[name, want] : expected["sharded"].items())
        compareTensor(sharded.tensor(name), sharded.info(name).dtype, want, name);
    COMPARE(sharded.totalBytes(), expected["sharded_total_bytes"].get<uint64_t>());
}

TEST_CASE(pythonReadsFilesWeWrite)
{
    TempDir dir;
    torch::manual_seed(3);
    const torch::Tensor base = torch::randn({4, 6});
    const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
        {"model.layers.0.self_attn.q_proj.weight", base},
        {"half", base.to(torch::kFloat16)},
        {"brain", base.to(torch::kBFloat16).t()},
        {"double", base.to(torch::kFloat64).narrow(1, 1, 3)},
        {"ids", torch::tensor({int64_t(1) << 60, int64_t(-3)})},
        {"i32", torch::tensor({7, -7}, torch::kInt32)},
        {"i16", torch::tensor({300}, torch::kInt16)},
        {"odd.bytes", torch::tensor({1, 2, 3}, torch::kUInt8)}, // an odd size before wider dtypes
        {"i8", torch::tensor({-1, 1}, torch::kInt8)},
        {"flags", torch::tensor({true, false})},
        {"empty", torch::zeros({0})},
    };
    const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"emloc", "1"}};
    const std::string path = dir.filePath("ours.safetensors");
    writeSafetensors(path, tensors, metadata);

    json expected{{"metadata", metadata}, {"tensors", json::object()}};
    const std::map<c10::ScalarType, std::string> names = {
        {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
        {torch::kFloat64, "F64"}, {torch::kInt64, "I64"},   {torch::kInt32, "I32"},
        {torch::kInt16, "I16"},   {torch::kInt8, "I8"},     {torch::kUInt8, "U8"},
        {torch::kBool, "BOOL"}};
    for (const auto &[name, tensor] : tensors)
        expected["tensors"][name] = describe(tensor, names.at(tensor.scalar_type()));
    const std::string expectedPath = dir.filePath("expected.json");
    writeFileAtomically(expectedPath, expected.dump());

    const auto result = emloc::test::runPythonScript("io_make_fixtures.py", {"check", path, expectedPath});
    VERIFY2(result.exitCode == 0, result.out + result.err);
    VERIFY(emloc::test::contains(result.out, "OK"));
}
