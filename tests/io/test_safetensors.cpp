// The safetensors reader and writer on their own: round trips of every dtype, and the strict checks
// that turn each kind of corrupt or truncated file into an Error naming the file (and the tensor).
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include "unit_test.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace emloc::core;
using emloc::test::contains;
using emloc::test::TempDir;

namespace {
template <typename Body> std::string errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return e.what();
    }
    return std::string();
}

// A file from a raw header text and `dataBytes` bytes of data, bypassing our writer's checks.
void writeRaw(const std::string &path, const std::string &header, size_t dataBytes, uint64_t declaredSize = 0)
{
    const uint64_t size = declaredSize ? declaredSize : header.size();
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[i] = static_cast<char>(size >> (8 * i));
    bytes += header;
    bytes.append(dataBytes, '\x11');
    writeFileAtomically(path, bytes);
}

std::vector<std::pair<std::string, torch::Tensor>> allDtypes()
{
    torch::manual_seed(7);
    const torch::Tensor base = torch::randn({3, 5});
    return {
        {"a.f32", base},
        {"b.f16", base.to(torch::kFloat16)},
        {"c.bf16", base.to(torch::kBFloat16)},
        {"d.f64", base.to(torch::kFloat64) / 3.0},
        {"e.i64", torch::tensor({int64_t(-(1LL << 62)), int64_t(0), int64_t((1LL << 53) + 1)})},
        {"f.i32", torch::tensor({-5, 7, 1 << 30}, torch::kInt32)},
        {"g.i16", torch::tensor({-32768, 1, 32767}, torch::kInt16)},
        {"h.i8", torch::tensor({-128, 0, 127}, torch::kInt8)},
        {"i.u8", torch::tensor({0, 128, 255}, torch::kUInt8)},
        {"j.bool", torch::tensor({true, false, true})},
        {"k.transposed", base.t()}, // not contiguous
        {"l.empty", torch::zeros({0, 4})},
        {"m.scalar", torch::tensor(1.5)},
    };
}
} // namespace

TEST_CASE(roundTripsEveryDtype)
{
    TempDir dir;
    const std::string path = dir.filePath("all.safetensors");
    const auto tensors = allDtypes();
    writeSafetensors(path, tensors, {{"format", "pt"}, {"by", "emloc"}});

    SafetensorsFile file(path);
    const std::vector<std::string> names = file.names();
    COMPARE(names.size(), tensors.size());
    VERIFY(std::is_sorted(names.begin(), names.end()));
    COMPARE(file.metadata().at("by"), std::string("emloc"));
    for (const auto &[name, expected] : tensors) {
        const torch::Tensor got = file.tensor(name);
        VERIFY2(got.scalar_type() == expected.scalar_type(), name.c_str());
        VERIFY2(got.sizes() == expected.sizes(), name.c_str());
        VERIFY2(torch::equal(got, expected), name.c_str());
        // Widest dtypes are laid out first, so every tensor is aligned to its element size.
        COMPARE(file.info(name).begin % static_cast<uint64_t>(expected.element_size()), uint64_t(0));
    }
    COMPARE(file.info("b.f16").dtype, std::string("F16"));
    COMPARE(file.info("k.transposed").shape, (std::vector<int64_t>{5, 3}));

    // The data section starts 8-byte aligned: the header is padded with spaces.
    std::ifstream raw(path, std::ios::binary);
    VERIFY(raw.is_open());
    char head[8] = {};
    VERIFY(raw.read(head, 8));
    uint64_t headerSize = 0;
    std::memcpy(&headerSize, head, 8);
    COMPARE(headerSize % 8, uint64_t(0));
}

TEST_CASE(tensorsOwnTheirMemory)
{
    TempDir dir;
    const std::string path = dir.filePath("own.safetensors");
    writeSafetensors(path, {{"x", torch::arange(10, torch::kFloat32)}});
    torch::Tensor kept;
    {
        SafetensorsFile file(path);
        kept = file.tensor("x");
    }
    // The mapping is gone; the tensor must still be readable and writable.
    kept.add_(1);
    VERIFY(torch::equal(kept, torch::arange(1, 11, torch::kFloat32)));
}

TEST_CASE(writerRejectsBadInput)
{
    TempDir dir;
    const std::string path = dir.filePath("bad.safetensors");
    std::string message = errorOf([&] {
        writeSafetensors(path, {{"x", torch::ones(2)}, {"x", torch::ones(2)}});
    });
    VERIFY2(contains(message, "appears twice"), message);
    message = errorOf([&] { writeSafetensors(path, {{"c", torch::ones(2, torch::kComplexFloat)}}); });
    VERIFY2(contains(message, "'c'") && contains(message, path), message);
    VERIFY(!emloc::test::fileExists(path));
}

TEST_CASE(corruptFilesAreErrorsNamingTheFile)
{
    struct Case
    {
        const char *name;
        std::string header;
        int dataBytes;
        unsigned long long declaredSize;
        std::string expected; // a phrase of the message besides the file name
    };
    const std::string f32 = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
    const std::vector<Case> cases = {
        {"truncated data", f32, 12, 0ull, "'w'"},
        {"header length too large", f32, 16, 1000ull, "truncated"},
        {"absurd header length", f32, 16, (1ull << 40), "not plausible"},
        {"bad json", R"({"w":{"dtype":)", 0, 0ull, "not valid JSON"},
        {"not an object", "[1,2,3]", 0, 0ull, "not a JSON object"},
        {"unknown dtype", R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", 8, 0ull,
         "unknown dtype 'F12'"},
        {"shape vs bytes", R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16, 0ull,
         "needs 16 bytes"},
        {"negative dim", R"({"w":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})", 8, 0ull,
         "non-negative"},
        {"missing dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8, 0ull, "'w'"},
        {"end before begin", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", 8, 0ull,
         "end before"},
        {"offset outside the file", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, 0ull,
         "past the end"},
        {"overlapping offsets",
         R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
         12, 0ull, "overlap"},
        {"metadata not strings",
         R"({"__metadata__":{"n":1},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1, 0ull,
         "__metadata__"},
    };
    for (const Case &c : cases) {
        emloc::test::Row row(c.name);
        TempDir dir;
        const std::string path = dir.filePath("broken.safetensors");
        writeRaw(path, c.header, static_cast<size_t>(c.dataBytes), c.declaredSize);
        const std::string message = errorOf([&] { SafetensorsFile file(path); });
        VERIFY2(contains(message, path), message);
        VERIFY2(contains(message, c.expected), message);
    }
}

TEST_CASE(tooShortAndTruncatedFiles)
{
    TempDir dir;
    const std::string tiny = dir.filePath("tiny.safetensors");
    writeFileAtomically(tiny, "abc");
    std::string message = errorOf([&] { SafetensorsFile file(tiny); });
    VERIFY2(contains(message, tiny) && contains(message, "too short"), message);

    // A real file cut short, as an interrupted copy leaves it.
    const std::string full = dir.filePath("full.safetensors");
    writeSafetensors(full, {{"big", torch::ones({64, 64})}, {"small", torch::ones({4})}});
    std::string bytes = readTextFile(full);
    const std::string cut = dir.filePath("cut.safetensors");
    writeFileAtomically(cut, bytes.substr(0, bytes.size() - 100));
    message = errorOf([&] { SafetensorsFile file(cut); });
    VERIFY2(contains(message, cut) && contains(message, "truncated"), message);
    VERIFY2(contains(message, "'big'") || contains(message, "'small'"), message);

    const std::string missing = errorOf([&] { SafetensorsFile file(dir.filePath("none.safetensors")); });
    VERIFY2(contains(missing, "none.safetensors") && contains(missing, "does not exist"), missing);
}

TEST_CASE(modelFolderSingleAndSharded)
{
    TempDir dir;
    const std::string single = dir.filePath("single");
    std::filesystem::create_directory(single);
    writeSafetensors(single + "/model.safetensors", {{"a", torch::ones({2, 3})}, {"b", torch::zeros({4})}});
    SafetensorsModel fromFolder(single);
    COMPARE(fromFolder.names(), (std::vector<std::string>{"a", "b"}));
    COMPARE(fromFolder.totalBytes(), uint64_t(40));
    SafetensorsModel fromFile(single + "/model.safetensors");
    VERIFY(torch::equal(fromFile.tensor("a"), torch::ones({2, 3})));

    const std::string sharded = dir.filePath("sharded");
    std::filesystem::create_directory(sharded);
    writeSafetensors(sharded + "/part-1.safetensors", {{"x", torch::arange(6).reshape({2, 3})}});
    writeSafetensors(sharded + "/part-2.safetensors", {{"y", torch::full({3}, 2.5)}});
    writeFileAtomically(
        sharded + "/model.safetensors.index.json",
        R"({"metadata":{},"weight_map":{"x":"part-1.safetensors","y":"part-2.safetensors"}})");
    SafetensorsModel model(sharded);
    VERIFY(model.contains("y") && !model.contains("z"));
    COMPARE(model.info("x").shape, (std::vector<int64_t>{2, 3}));
    VERIFY(torch::equal(model.tensor("y"), torch::full({3}, 2.5)));
    std::string message = errorOf([&] { model.tensor("z"); });
    VERIFY2(contains(message, "'z'") && contains(message, sharded), message);

    // Concurrent first reads of the lazily opened shards.
    SafetensorsModel concurrent(sharded);
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            if (torch::equal(concurrent.tensor(i % 2 ? "x" : "y"),
                             i % 2 ? torch::arange(6).reshape({2, 3}) : torch::full({3}, 2.5)))
                ++good;
        });
    for (std::thread &thread : threads)
        thread.join();
    COMPARE(good.load(), 8);

    // An index that places a tensor in a shard that lacks it.
    writeFileAtomically(sharded + "/model.safetensors.index.json",
                        R"({"weight_map":{"x":"part-2.safetensors","y":"part-2.safetensors"}})");
    SafetensorsModel mismatched(sharded);
    message = errorOf([&] { mismatched.tensor("x"); });
    VERIFY2(contains(message, "part-2.safetensors") && contains(message, "'x'"), message);
}

TEST_CASE(missingShardAndMissingWeights)
{
    TempDir dir;
    const std::string folder = dir.path();
    writeSafetensors(folder + "/model-00001-of-00002.safetensors", {{"x", torch::ones(2)}});
    const std::string index = folder + "/model.safetensors.index.json";
    writeFileAtomically(index, R"({"weight_map":{"x":"model-00001-of-00002.safetensors",)"
                               R"("y":"model-00002-of-00002.safetensors"}})");
    std::string message = errorOf([&] { SafetensorsModel model(folder); });
    VERIFY2(contains(message, index), message);
    VERIFY2(contains(message, "model-00002-of-00002.safetensors"), message);

    writeFileAtomically(index, R"({"weight_map": 3})");
    message = errorOf([&] { SafetensorsModel model(folder); });
    VERIFY2(contains(message, index) && contains(message, "weight_map"), message);

    TempDir empty;
    message = errorOf([&] { SafetensorsModel model(empty.path()); });
    VERIFY2(contains(message, empty.path()) && contains(message, "model.safetensors"), message);
}

TEST_CASE(readsLazilyAndFast)
{
    // 64 tensors of 1 MiB: opening touches only the header, reading one tensor only its bytes.
    TempDir dir;
    const std::string path = dir.filePath("many.safetensors");
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (int i = 0; i < 64; ++i)
        tensors.emplace_back("t" + std::to_string(100 + i), torch::full({256, 1024}, float(i)));
    using Clock = std::chrono::steady_clock;
    const auto elapsedNs = [](Clock::time_point since) {
        return static_cast<long long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since).count());
    };
    auto timer = Clock::now();
    writeSafetensors(path, tensors);
    const long long writeMs = elapsedNs(timer) / 1'000'000;
    timer = Clock::now();
    SafetensorsFile file(path);
    const long long openNs = elapsedNs(timer);
    timer = Clock::now();
    const torch::Tensor t = file.tensor("t137");
    const long long readNs = elapsedNs(timer);
    COMPARE(t.sum().item<double>(), 37.0 * 256 * 1024);
    timer = Clock::now();
    for (const std::string &name : file.names())
        file.tensor(name);
    const long long allMs = elapsedNs(timer) / 1'000'000;
    char line[200];
    std::snprintf(line, sizeof line,
                  "write 64 MiB: %lld ms; open: %.3f ms; one 1 MiB tensor: %.3f ms; all 64 MiB: %lld ms",
                  writeMs, openNs / 1e6, readNs / 1e6, allMs);
    emloc::test::info(line);
    VERIFY2(openNs < 50'000'000, "opening must not read the data");
}
