// GGUF reader and writer without Python: value round trips, strict validation of damaged files, the
// demo SmolLM2 file's metadata and weights under Hugging Face names.
#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"
#include "emloc/io/gguf_names.h"
#include "gguf_model.h"

#include "unit_test.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::TempDir;

namespace {

std::vector<uint8_t> readBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Asserts that opening `path` throws an Error whose message contains every fragment.
void expectOpenError(const std::string &path, std::initializer_list<const char *> fragments)
{
    try {
        GgufFile file(path);
    } catch (const Error &e) {
        const std::string message = e.what();
        for (const char *fragment : fragments)
            VERIFY2(message.find(fragment) != std::string::npos,
                    (message + " | missing: " + fragment).c_str());
        return;
    }
    FAIL(("no error opening " + path).c_str());
}

// A small valid file: two tensors, metadata of every kind.
std::string writeSample(const TempDir &dir, const char *name = "sample.gguf")
{
    GgufWriter writer;
    writer.set("general.architecture", GgufValue::string("llama"));
    writer.set("test.u8", {GgufValueType::UInt8, GgufValueType::UInt8, 200});
    writer.set("test.i8", {GgufValueType::Int8, GgufValueType::UInt8, -100});
    writer.set("test.u16", {GgufValueType::UInt16, GgufValueType::UInt8, 60000});
    writer.set("test.i16", {GgufValueType::Int16, GgufValueType::UInt8, -30000});
    writer.set("test.u32", GgufValue::uint32(4000000000u));
    writer.set("test.i32", GgufValue::int32(-2000000000));
    writer.set("test.f32", GgufValue::float32(0.25f));
    writer.set("test.bool", GgufValue::boolean(true));
    writer.set("test.string", GgufValue::string("h\xc3\xa9llo"));
    writer.set("test.u64", GgufValue::uint64(1ull << 40));
    writer.set("test.i64", {GgufValueType::Int64, GgufValueType::UInt8, -(1ll << 40)});
    writer.set("test.f64", {GgufValueType::Float64, GgufValueType::UInt8, 1.0 / 3.0});
    writer.set("test.strings", GgufValue::array(GgufValueType::String, {"a", "", "c d"}));
    writer.set("test.floats", GgufValue::array(GgufValueType::Float32, {1.5, -2.0}));
    writer.set("test.nested", GgufValue::array(GgufValueType::Array, {{1, 2}, {3}}));
    writer.addTensor("w", torch::arange(64, torch::kFloat32).reshape({2, 32}), GgmlType::F32);
    writer.addTensor("h", torch::linspace(-1, 1, 32), GgmlType::F16);
    const std::string path = dir.filePath(name);
    writer.write(path);
    return path;
}

} // namespace

TEST_CASE(valuesRoundTrip)
{
    TempDir dir;
    GgufFile file(writeSample(dir));
    COMPARE(file.version(), 3u);
    COMPARE(file.metadata().size(), size_t(16));
    COMPARE(file.integer("test.u8"), int64_t(200));
    COMPARE(file.integer("test.i8"), int64_t(-100));
    COMPARE(file.integer("test.u16"), int64_t(60000));
    COMPARE(file.integer("test.i16"), int64_t(-30000));
    COMPARE(file.integer("test.u32"), int64_t(4000000000ll));
    COMPARE(file.integer("test.i32"), int64_t(-2000000000));
    COMPARE(file.number("test.f32"), 0.25);
    COMPARE(file.booleanOr("test.bool", false), true);
    COMPARE(file.string("test.string"), std::string("h\xc3\xa9llo"));
    COMPARE(file.integer("test.u64"), int64_t(1ll << 40));
    COMPARE(file.integer("test.i64"), -(int64_t(1) << 40));
    COMPARE(file.number("test.f64"), 1.0 / 3.0);
    COMPARE(file.value("test.strings").value, nlohmann::json({"a", "", "c d"}));
    COMPARE(file.value("test.strings").arrayType, GgufValueType::String);
    COMPARE(file.value("test.floats").value, nlohmann::json({1.5, -2.0}));
    COMPARE(file.value("test.nested").value, nlohmann::json({{1, 2}, {3}}));
    COMPARE(file.value("test.i16").type, GgufValueType::Int16);

    COMPARE(file.tensors().size(), size_t(2));
    const GgufTensorInfo &w = file.tensorInfo("w");
    COMPARE(w.dims, (std::vector<int64_t>{32, 2}));
    COMPARE(w.shape(), (std::vector<int64_t>{2, 32}));
    COMPARE(w.offset % 32, uint64_t(0));
    VERIFY(torch::equal(file.tensor("w"), torch::arange(64, torch::kFloat32).reshape({2, 32})));
    VERIFY(
        torch::equal(file.tensor("h"), torch::linspace(-1, 1, 32).to(torch::kFloat16).to(torch::kFloat32)));
    COMPARE(file.tensorInfo("h").offset % 32, uint64_t(0));
    COMPARE(file.dataOffset() % 32, uint64_t(0));
}

TEST_CASE(typedGetterErrorsNameTheKey)
{
    TempDir dir;
    GgufFile file(writeSample(dir));
    VERIFY_THROWS(Error, file.integer("test.string"));
    VERIFY_THROWS(Error, file.string("missing.key"));
    try {
        file.integer("test.string");
    } catch (const Error &e) {
        VERIFY(std::string(e.what()).find("test.string") != std::string::npos);
    }
    COMPARE(file.integerOr("missing.key", 7), int64_t(7));
    VERIFY_THROWS(Error, file.tensor("nope"));
}

TEST_CASE(damagedFilesAreRejected)
{
    TempDir dir;
    const std::string good = writeSample(dir);
    const std::vector<uint8_t> bytes = readBytes(good);
    const std::string bad = dir.filePath("bad.gguf");

    auto patched = bytes;
    patched[0] = 'X';
    writeBytes(bad, patched);
    expectOpenError(bad, {"bad.gguf", "magic"});

    patched = bytes;
    patched[4] = 7; // version
    writeBytes(bad, patched);
    expectOpenError(bad, {"version 7"});

    patched = bytes;
    patched[8 + 7] = 0x40; // tensor count: absurd
    writeBytes(bad, patched);
    expectOpenError(bad, {"corrupt"});

    // Truncated inside the data of the last tensor.
    writeBytes(bad, std::vector<uint8_t>(bytes.begin(), bytes.end() - 40));
    expectOpenError(bad, {"bad.gguf", "tensor 'h'", "truncated"});

    // Truncated inside the metadata.
    writeBytes(bad, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100));
    expectOpenError(bad, {"truncated"});

    // Unknown ggml type for tensor "w": find its name in the tensor table and patch the type field
    // (after the name: u32 n_dims, 2 x u64 dims, then u32 type).
    patched = bytes;
    const std::string marker = std::string("\x01\0\0\0\0\0\0\0w", 9);
    auto at = std::search(patched.begin(), patched.end(), marker.begin(), marker.end());
    VERIFY(at != patched.end());
    size_t typeAt = static_cast<size_t>(at - patched.begin()) + marker.size() + 4 + 16;
    patched[typeAt] = 99;
    writeBytes(bad, patched);
    expectOpenError(bad, {"tensor 'w'", "unknown ggml type 99"});

    // Offset not aligned.
    patched = bytes;
    patched[typeAt + 4] = 3;
    writeBytes(bad, patched);
    expectOpenError(bad, {"tensor 'w'", "alignment"});

    // Unknown metadata value type: the first key's type field follows its name.
    patched = bytes;
    const std::string key = "general.architecture";
    auto keyAt = std::search(patched.begin(), patched.end(), key.begin(), key.end());
    patched[static_cast<size_t>(keyAt - patched.begin()) + key.size()] = 77;
    writeBytes(bad, patched);
    expectOpenError(bad, {"general.architecture", "unknown value type 77"});

    expectOpenError(dir.filePath("missing.gguf"), {"missing.gguf"});
}

TEST_CASE(writerRejectsBadInput)
{
    GgufWriter writer;
    VERIFY_THROWS(Error, writer.addTensor("q", torch::zeros({4, 30}), GgmlType::Q8_0));
    VERIFY_THROWS(Error, writer.addTensor("q", torch::zeros({4, 32}), GgmlType::Q4_K));
    writer.addTensor("q", torch::zeros({4, 32}), GgmlType::Q8_0);
    VERIFY_THROWS(Error, writer.addTensor("q", torch::zeros({4, 32}), GgmlType::F32));
    VERIFY_THROWS(Error, GgufWriter(3));
}

TEST_CASE(q8RoundTripIsClose)
{
    TempDir dir;
    torch::manual_seed(0);
    auto values = torch::randn({8, 64});
    GgufWriter writer(64);
    writer.addTensor("q", values, GgmlType::Q8_0);
    writer.addTensor("b", values, GgmlType::BF16);
    const std::string path = dir.filePath("q8.gguf");
    writer.write(path);
    GgufFile file(path);
    COMPARE(file.alignment(), uint64_t(64));
    COMPARE(file.tensorInfo("b").offset % 64, uint64_t(0));
    const double scale = values.abs().max().item<double>();
    VERIFY((file.tensor("q") - values).abs().max().item<double>() < scale / 127.0 * 0.6 + 1e-3);
    VERIFY(torch::equal(file.tensor("b"), values.to(torch::kBFloat16).to(torch::kFloat32)));
}

TEST_CASE(permutationIsInvertedExactly)
{
    // Reference values of convert_hf_to_gguf.py's permute for 2 heads of 4 rows: within each head
    // the rows (0 1 2 3) become (0 2 1 3).
    auto w = torch::arange(8, torch::kFloat32).reshape({8, 1});
    auto p = permuteQk(w, 2).reshape({8});
    VERIFY(torch::equal(p, torch::tensor({0.f, 2.f, 1.f, 3.f, 4.f, 6.f, 5.f, 7.f})));
    auto big = torch::randn({12 * 8, 5});
    VERIFY(torch::equal(unpermuteQk(permuteQk(big, 12), 12), big));
    VERIFY_THROWS(Error, permuteQk(torch::zeros({6, 2}), 4));
}

TEST_CASE(demoModelOpens)
{
    const std::string path = emloc::test::demoGgufPath();
    GgufFile file(path);
    COMPARE(file.string("general.architecture"), std::string("llama"));
    COMPARE(file.tensors().size(), size_t(272));
    COMPARE(file.tensorInfo("blk.0.attn_q.weight").type, GgmlType::Q4_1);
    COMPARE(file.tensorInfo("token_embd.weight").type, GgmlType::Q8_0);

    ModelFiles model = openGgufModel(path);
    const ModelConfig &c = model.config;
    COMPARE(model.format, std::string("gguf"));
    COMPARE(c.modelType, std::string("llama"));
    COMPARE(c.hiddenSize, int64_t(576));
    COMPARE(c.intermediateSize, int64_t(1536));
    COMPARE(c.numLayers, int64_t(30));
    COMPARE(c.numHeads, int64_t(9));
    COMPARE(c.numKeyValueHeads, int64_t(3));
    COMPARE(c.headDim, int64_t(64));
    COMPARE(c.vocabSize, int64_t(49152));
    COMPARE(c.maxPositionEmbeddings, int64_t(8192));
    COMPARE(c.ropeTheta, 100000.0);
    VERIFY(std::abs(c.rmsNormEps - 1e-5) < 1e-10);
    VERIFY(c.tieWordEmbeddings);
    COMPARE(c.bosTokenId, int64_t(1));
    COMPARE(c.eosTokenIds, std::vector<int64_t>{2});

    auto names = model.weights->names();
    COMPARE(names.size(), size_t(2 + 30 * 9));
    VERIFY(!model.weights->contains("lm_head.weight"));
    COMPARE(model.weights->shape("model.layers.0.self_attn.k_proj.weight"), (std::vector<int64_t>{192, 576}));
    auto k = model.weights->tensor("model.layers.0.self_attn.k_proj.weight");
    COMPARE(k.sizes().vec(), (std::vector<int64_t>{192, 576}));
    COMPARE(k.scalar_type(), torch::kFloat32);
    // The un-permuted k rows are llama.cpp's rows reordered within each head.
    VERIFY(torch::equal(permuteQk(k, 3), file.tensor("blk.0.attn_k.weight")));
    VERIFY(
        torch::equal(model.weights->tensor("model.embed_tokens.weight"), file.tensor("token_embd.weight")));

    COMPARE(model.tokenizerConfig["bos_token"].get<std::string>(), std::string("<|im_start|>"));
    COMPARE(model.tokenizerConfig["eos_token"].get<std::string>(), std::string("<|im_end|>"));
    COMPARE(model.tokenizerConfig["add_bos_token"].get<bool>(), false);
    VERIFY(model.tokenizerConfig["chat_template"].get<std::string>().find("<|im_start|>") !=
           std::string::npos);
    COMPARE(model.generationConfig["eos_token_id"].get<int64_t>(), int64_t(2));
    COMPARE(model.tokenizerJson["model"]["vocab"].size(), size_t(49152));
    COMPARE(model.tokenizerJson["model"]["merges"].size(), size_t(48900));
}

TEST_CASE(dequantisationSpeed)
{
    // The whole demo model dequantised tensor by tensor: a budget check for lazy per-layer reads.
    GgufFile file(emloc::test::demoGgufPath());
    // CPU time, not wall time: the check must hold on a busy shared machine too.
    const auto wallStart = std::chrono::steady_clock::now();
    const std::clock_t cpuStart = std::clock();
    int64_t elements = 0;
    for (const auto &info : file.tensors())
        elements += file.tensor(info.name).numel();
    const double cpuSeconds = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    const auto wallMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wallStart)
            .count();
    char line[200];
    std::snprintf(line, sizeof line,
                  "dequantised %lld values: %.2f s CPU, %.2f s wall (%.1f M values per CPU second)",
                  static_cast<long long>(elements), cpuSeconds, wallMs / 1000.0, elements / cpuSeconds / 1e6);
    emloc::test::info(line);
    COMPARE(elements, int64_t(134515008));
    VERIFY2(cpuSeconds < 30.0, "dequantisation far slower than expected");
}
