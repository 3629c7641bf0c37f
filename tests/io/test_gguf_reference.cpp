// GGUF against llama.cpp's `gguf` Python package and transformers: dequantisation of every block type,
// tokenizer.json rebuilt from metadata, files our writer produced read back by GGUFReader, and the
// demo model exported and re-read.
#include "emloc/api/error.h"
#include "emloc/io/gguf_file.h"
#include "gguf_model.h"
#include "gguf_tokenizer.h"

#include "child_process.h"
#include "json_fields.h"
#include "unit_test.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

using namespace emloc::core;
using emloc::test::runPythonScript;

namespace {

// The fixtures the suite setup writes, shared by the test cases.
emloc::test::TempDir &fixtureDir()
{
    static emloc::test::TempDir dir;
    return dir;
}

nlohmann::json lastJsonLine(const std::string &out)
{
    const std::string line = emloc::test::lastLine(out);
    return nlohmann::json::parse(line.empty() ? std::string("{}") : line);
}

void writeJson(const std::string &path, const nlohmann::json &value)
{
    std::ofstream(path) << value.dump();
}

#define RUN_PYTHON(result, script, args, timeout)                                                            \
    const auto result = runPythonScript(script, args, timeout);                                              \
    VERIFY2(result.exitCode == 0, emloc::test::tail(result.out + result.err))

// The added tokens as (id, content, special) triples: the JSON-level identity of what stays whole.
std::set<std::tuple<int64_t, std::string, bool>> addedTokens(const nlohmann::json &tokenizer)
{
    std::set<std::tuple<int64_t, std::string, bool>> out;
    for (const auto &t : tokenizer["added_tokens"])
        out.emplace(t["id"].get<int64_t>(), t["content"].get<std::string>(), t["special"].get<bool>());
    return out;
}

} // namespace

SUITE_SETUP()
{
    VERIFY(emloc::test::fileExists(fixtureDir().path()));
    RUN_PYTHON(quants, "gguf_fixtures.py", (std::vector<std::string>{"quants", fixtureDir().path()}), 120000);
    RUN_PYTHON(tokenizers, "gguf_fixtures.py",
               (std::vector<std::string>{"tokenizers", fixtureDir().path(), emloc::test::demoGgufPath()}),
               120000);
}

TEST_CASE(dequantisationMatchesGgufPackage)
{
    GgufFile data(fixtureDir().filePath("quants.gguf"));
    GgufFile reference(fixtureDir().filePath("quants_ref.gguf"));
    const std::vector<std::string> expected = {"F32",  "F16",  "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0",
                                               "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    COMPARE(data.tensors().size(), expected.size());
    for (const std::string &typeName : expected) {
        const std::string name = "t." + typeName;
        COMPARE(ggmlTypeName(data.tensorInfo(name).type), typeName);
        auto ours = data.tensor(name).to(torch::kFloat64);
        auto ref = reference.tensor(name).to(torch::kFloat64);
        COMPARE(ours.sizes(), ref.sizes());
        const double diff = (ours - ref).abs().max().item<double>();
        const double scale = ref.abs().max().item<double>();
        char line[160];
        std::snprintf(line, sizeof line, "%-5s max |ours - gguf.quants| = %.3g (values up to %.3g)",
                      typeName.c_str(), diff, scale);
        emloc::test::info(line);
        // Same float32 operations in the same order: equal up to rounding of fused multiply-adds.
        VERIFY2(diff <= 1e-6 * std::max(1.0, scale), (name + " differs by " + std::to_string(diff)).c_str());
        VERIFY2(scale > 0, "reference tensor is all zeros: the check would prove nothing");
    }
}

TEST_CASE(tokenizerMatchesTransformers)
{
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"smollm2 (gpt2, smollm)", emloc::test::demoGgufPath()},
        {"gpt2 / llama-bpe split, add_bos", fixtureDir().filePath("tok_llama-bpe.gguf")},
        {"gpt2 / qwen2 split", fixtureDir().filePath("tok_qwen2.gguf")},
        {"gpt2 / gpt2", fixtureDir().filePath("tok_gpt2.gguf")},
        {"llama (sentencepiece BPE)", fixtureDir().filePath("tok_spm.gguf")}};
    for (const auto &[rowName, gguf] : rows) {
        emloc::test::Row row(rowName);
        const std::string gold =
            fixtureDir().filePath("gold-" + std::to_string(std::hash<std::string>()(gguf)));
        RUN_PYTHON(goldRun, "gguf_fixtures.py", (std::vector<std::string>{"gold", gguf, gold}), 180000);
        const nlohmann::json reference = emloc::test::readJsonFile(gold + "/tokenizer.json");
        const nlohmann::json referenceConfig = emloc::test::readJsonFile(gold + "/tokenizer_config.json");

        GgufFile file(gguf);
        const nlohmann::json ours = ggufTokenizerJson(file);
        const nlohmann::json oursConfig = ggufTokenizerConfig(file);
        for (const char *field :
             {"type", "vocab", "merges", "byte_fallback", "fuse_unk", "unk_token", "dropout",
              "continuing_subword_prefix", "end_of_word_suffix", "ignore_merges"})
            VERIFY2(ours["model"][field] == reference["model"][field], field);
        for (const char *part : {"normalizer", "pre_tokenizer", "decoder", "post_processor"})
            VERIFY2(ours[part] == reference[part],
                    (std::string(part) + ": ours " + ours[part].dump() + " vs " + reference[part].dump())
                        .c_str());
        VERIFY(addedTokens(ours) == addedTokens(reference));
        for (const char *token : {"bos_token", "eos_token", "unk_token", "pad_token"})
            VERIFY2(oursConfig.value(token, nlohmann::json()) ==
                        referenceConfig.value(token, nlohmann::json()),
                    token);

        const std::string oursPath = gold + "/ours.json";
        writeJson(oursPath, ours);
        RUN_PYTHON(ids, "gguf_fixtures.py",
                   (std::vector<std::string>{"compare_ids", oursPath, gold + "/tokenizer.json"}), 120000);
        emloc::test::info(lastJsonLine(ids.out).dump().substr(0, 200));
    }
}

TEST_CASE(writerOutputReadByGgufPackage)
{
    GgufWriter writer(64);
    nlohmann::json keys = nlohmann::json::array();
    auto add = [&](const std::string &key, const GgufValue &value, std::vector<std::string> types) {
        writer.set(key, value);
        keys.push_back({{"key", key}, {"value", value.value}, {"types", types}});
    };
    add("general.alignment", GgufValue::uint32(64), {"UINT32"});
    add("general.architecture", GgufValue::string("llama"), {"STRING"});
    add("t.u8", {GgufValueType::UInt8, GgufValueType::UInt8, 250}, {"UINT8"});
    add("t.i8", {GgufValueType::Int8, GgufValueType::UInt8, -3}, {"INT8"});
    add("t.u16", {GgufValueType::UInt16, GgufValueType::UInt8, 65000}, {"UINT16"});
    add("t.i16", {GgufValueType::Int16, GgufValueType::UInt8, -32000}, {"INT16"});
    add("t.u32", GgufValue::uint32(4000000000u), {"UINT32"});
    add("t.i32", GgufValue::int32(-7), {"INT32"});
    add("t.f32", GgufValue::float32(1.5f), {"FLOAT32"});
    add("t.bool", GgufValue::boolean(true), {"BOOL"});
    add("t.u64", GgufValue::uint64(1ull << 50), {"UINT64"});
    add("t.i64", {GgufValueType::Int64, GgufValueType::UInt8, -(1ll << 50)}, {"INT64"});
    add("t.f64", {GgufValueType::Float64, GgufValueType::UInt8, 0.1}, {"FLOAT64"});
    add("t.string", GgufValue::string("caf\xc3\xa9 \xe6\x97\xa5"), {"STRING"});
    add("t.strings", GgufValue::array(GgufValueType::String, {"x", "", "y z"}), {"ARRAY", "STRING"});
    add("t.ints", GgufValue::array(GgufValueType::Int32, {1, -2, 3}), {"ARRAY", "INT32"});
    add("t.floats", GgufValue::array(GgufValueType::Float32, {0.5, -0.25}), {"ARRAY", "FLOAT32"});

    torch::manual_seed(3);
    nlohmann::json tensors = nlohmann::json::array();
    auto addTensor = [&](const std::string &name, const torch::Tensor &values, GgmlType type, double tol) {
        writer.addTensor(name, values, type);
        auto flat = values.reshape({-1}).to(torch::kFloat64);
        std::vector<double> list(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
        std::vector<int64_t> dims(values.sizes().rbegin(), values.sizes().rend());
        tensors.push_back(
            {{"name", name}, {"type", ggmlTypeName(type)}, {"dims", dims}, {"values", list}, {"tol", tol}});
    };
    addTensor("a.f32", torch::randn({3, 5, 4}), GgmlType::F32, 0.0);
    auto half = torch::randn({7, 16}).to(torch::kFloat16).to(torch::kFloat32);
    addTensor("b.f16", half, GgmlType::F16, 0.0);
    auto bf = torch::randn({33}).to(torch::kBFloat16).to(torch::kFloat32);
    addTensor("c.bf16", bf, GgmlType::BF16, 0.0);
    addTensor("d.q8", torch::randn({2, 64}), GgmlType::Q8_0, 0.03);

    const std::string path = fixtureDir().filePath("written.gguf");
    writer.write(path);
    const std::string expect = fixtureDir().filePath("written.json");
    writeJson(expect, {{"keys", keys}, {"tensors", tensors}, {"alignment", 64}});
    RUN_PYTHON(check, "gguf_check.py", (std::vector<std::string>{"check_written", path, expect}), 120000);
    emloc::test::info(emloc::test::trimmed(check.out));
}

TEST_CASE(exportedDemoModelMatchesOriginal)
{
    const std::string source = emloc::test::demoGgufPath();
    ModelFiles model = openGgufModel(source);
    const std::string out = fixtureDir().filePath("smollm2-f32.gguf");
    const auto started = std::chrono::steady_clock::now();
    writeGgufModel(model, out, "F32");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char line[80];
    std::snprintf(line, sizeof line, "exported the demo model to F32 GGUF in %.1f s", seconds);
    emloc::test::info(line);

    // Our own reader: same config, tokenizer files and weights (exactly: F32 holds dequantised values).
    ModelFiles again = openGgufModel(out);
    COMPARE(again.config.hiddenSize, model.config.hiddenSize);
    COMPARE(again.config.numKeyValueHeads, model.config.numKeyValueHeads);
    COMPARE(again.config.ropeTheta, model.config.ropeTheta);
    COMPARE(again.config.rmsNormEps, model.config.rmsNormEps);
    COMPARE(again.config.tieWordEmbeddings, true);
    VERIFY(again.tokenizerJson == model.tokenizerJson);
    VERIFY(again.tokenizerConfig == model.tokenizerConfig);
    COMPARE(again.weights->names(), model.weights->names());
    for (const std::string &name :
         {std::string("model.layers.7.self_attn.q_proj.weight"),
          std::string("model.layers.7.self_attn.k_proj.weight"),
          std::string("model.layers.29.mlp.down_proj.weight"), std::string("model.embed_tokens.weight"),
          std::string("model.norm.weight")})
        VERIFY2(torch::equal(again.weights->tensor(name), model.weights->tensor(name)), name.c_str());

    // llama.cpp's own reader: metadata and every tensor (in GGUF layout, so the q/k permutation too).
    RUN_PYTHON(check, "gguf_check.py", (std::vector<std::string>{"compare_export", source, out}), 300000);
    emloc::test::info(emloc::test::trimmed(check.out));

    // F16 export: matrices F16, norms F32.
    const std::string half = fixtureDir().filePath("smollm2-f16.gguf");
    writeGgufModel(model, half, "F16");
    GgufFile file(half);
    COMPARE(file.tensorInfo("blk.3.attn_q.weight").type, GgmlType::F16);
    COMPARE(file.tensorInfo("blk.3.attn_norm.weight").type, GgmlType::F32);
    COMPARE(file.integer("general.file_type"), int64_t(1));
    VERIFY(!file.hasTensor("output.weight"));
    VERIFY_THROWS(Error, writeGgufModel(model, fixtureDir().filePath("x.gguf"), "Q4_K"));
}
