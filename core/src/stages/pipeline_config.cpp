// The pipeline's configuration file: strict (unknown keys and wrong types are errors that name the key),
// with relative paths resolved against the file's folder.
#include "emloc/stages/pipeline.h"

#include "emloc/api/error.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace emloc::core {

namespace {

// One JSON object of the configuration, read key by key; leftover keys are reported as unknown.
class Section
{
public:
    Section(const nlohmann::json &json, std::string where, std::string source)
        : m_json(json), m_where(std::move(where)), m_source(std::move(source))
    {
        if (!m_json.is_object())
            throw Error(m_source + ": " + (m_where.empty() ? "the file" : "'" + m_where + "'") +
                        " must be a JSON object ({...})");
    }

    bool has(const std::string &key) const { return m_json.contains(key) && !m_json.at(key).is_null(); }

    std::string string(const std::string &key, const std::string &fallback)
    {
        const nlohmann::json *value = take(key);
        if (!value)
            return fallback;
        if (!value->is_string())
            fail(key, "must be a string");
        return value->get<std::string>();
    }

    double number(const std::string &key, double fallback, double low, double high)
    {
        const nlohmann::json *value = take(key);
        if (!value)
            return fallback;
        if (!value->is_number())
            fail(key, "must be a number");
        const double x = value->get<double>();
        if (!(x >= low && x <= high))
            fail(key,
                 "must be between " + format(low) + " and " + format(high) + " (it is " + format(x) + ")");
        return x;
    }

    int64_t integer(const std::string &key, int64_t fallback, int64_t low, int64_t high)
    {
        const nlohmann::json *value = take(key);
        if (!value)
            return fallback;
        if (!value->is_number_integer())
            fail(key, "must be a whole number");
        const int64_t x = value->get<int64_t>();
        if (x < low || x > high)
            fail(key, "must be between " + std::to_string(low) + " and " + std::to_string(high) + " (it is " +
                          std::to_string(x) + ")");
        return x;
    }

    bool boolean(const std::string &key, bool fallback)
    {
        const nlohmann::json *value = take(key);
        if (!value)
            return fallback;
        if (!value->is_boolean())
            fail(key, "must be true or false");
        return value->get<bool>();
    }

    std::vector<std::string> strings(const std::string &key, std::vector<std::string> fallback)
    {
        const nlohmann::json *value = take(key);
        if (!value)
            return fallback;
        if (!value->is_array())
            fail(key, "must be a list of strings");
        std::vector<std::string> out;
        for (const auto &item : *value) {
            if (!item.is_string())
                fail(key, "must be a list of strings");
            out.push_back(item.get<std::string>());
        }
        return out;
    }

    std::string choice(const std::string &key, const std::string &fallback,
                       const std::set<std::string> &allowed)
    {
        const std::string value = string(key, fallback);
        if (!allowed.count(value)) {
            std::string list;
            for (const auto &a : allowed)
                list += (list.empty() ? "" : ", ") + a;
            fail(key, "must be one of " + list + " (it is '" + value + "')");
        }
        return value;
    }

    Section section(const std::string &key)
    {
        static const nlohmann::json empty = nlohmann::json::object();
        const nlohmann::json *value = take(key);
        return Section(value ? *value : empty, path(key), m_source);
    }

    // Raises the first key nobody asked for.
    void finish() const
    {
        for (const auto &item : m_json.items())
            if (!m_taken.count(item.key()))
                fail(item.key(), "is not a known setting; check its spelling against the README's "
                                 "configuration reference");
    }

    [[noreturn]] void fail(const std::string &key, const std::string &what) const
    {
        throw Error(m_source + ": '" + path(key) + "' " + what);
    }

private:
    const nlohmann::json *take(const std::string &key)
    {
        m_taken.insert(key);
        if (!has(key))
            return nullptr;
        return &m_json.at(key);
    }
    std::string path(const std::string &key) const { return m_where.empty() ? key : m_where + "." + key; }
    static std::string format(double x)
    {
        std::ostringstream out;
        out << x;
        return out.str();
    }

    const nlohmann::json &m_json;
    std::string m_where;
    std::string m_source;
    std::set<std::string> m_taken;
};

std::string resolvePath(const std::string &path, const std::string &baseDir)
{
    if (path.empty() || baseDir.empty() || std::filesystem::path(path).is_absolute())
        return path;
    return (std::filesystem::path(baseDir) / path).lexically_normal().string();
}

using run_defaults::kMaxCount;

} // namespace

PipelineConfig pipelineConfigFromJson(const nlohmann::json &json, const std::string &source,
                                      const std::string &baseDir, const std::string &outputOverride,
                                      RunPaths paths)
{
    const bool required = paths == RunPaths::Required;
    PipelineConfig config;
    const PipelineConfig defaults; // one schema: a file's defaults are the struct's (test_pipeline_config)
    Section root(json, "", source);
    config.model = resolvePath(root.string("model", ""), baseDir);
    if (config.model.empty() && required)
        root.fail("model", "is required: a Hugging Face model folder or a .gguf file");
    config.outputDir = resolvePath(root.string("output", ""), baseDir);
    if (!outputOverride.empty())
        config.outputDir = std::filesystem::absolute(outputOverride).lexically_normal().string();
    if (config.outputDir.empty() && required)
        root.fail("output", "is required: the folder the run writes into (or give --output)");
    config.device = root.string("device", defaults.device);

    Section data = root.section("data");
    config.trainData = resolvePath(data.string("train", ""), baseDir);
    if (config.trainData.empty() && required)
        data.fail("train", "is required: the training data file (.jsonl, .json or .txt)");
    config.testData = resolvePath(data.string("test", ""), baseDir);
    config.format = data.choice("format", defaults.format,
                                {"auto", "alpaca", "messages", "sharegpt", "prompt-completion", "text"});
    config.chatTemplate = data.choice("template", defaults.chatTemplate,
                                      {"auto", "jinja", "chatml", "llama3", "llama2", "alpaca", "plain"});
    config.systemPrompt = data.string("system", defaults.systemPrompt);
    config.maxLength = data.integer("max_length", defaults.maxLength, run_defaults::kMaxLength.low,
                                    run_defaults::kMaxLength.high);
    config.validationFraction =
        data.number("validation_fraction", defaults.validationFraction, run_defaults::kValidationFraction.low,
                    run_defaults::kValidationFraction.high);
    data.finish();

    Section emulator = root.section("emulator");
    EmulatorOptions &e = config.emulator;
    e.ratio = emulator.number("ratio", defaults.emulator.ratio, run_defaults::kRatio.low,
                              run_defaults::kRatio.high);
    e.visionRatio = emulator.number("vision_ratio", defaults.emulator.visionRatio,
                                    run_defaults::kVisionRatio.low, run_defaults::kVisionRatio.high);
    const double budgetGb = emulator.number("budget_gb", 0, 0, 1e6);
    config.budgetBytes = static_cast<int64_t>(std::llround(budgetGb * double(int64_t(1) << 30)));
    e.calibration.samples =
        emulator.integer("calibration_samples", defaults.emulator.calibration.samples,
                         run_defaults::kCalibrationSamples.low, run_defaults::kCalibrationSamples.high);
    e.calibration.seed = static_cast<uint64_t>(
        emulator.integer("seed", int64_t(defaults.emulator.calibration.seed), 0, kMaxCount));
    e.plainSvd = emulator.boolean("plain_svd", defaults.emulator.plainSvd);
    e.allocateRanks = emulator.boolean("allocate_ranks", defaults.emulator.allocateRanks);
    e.gramFloat64 = emulator.boolean("gram_float64", defaults.emulator.gramFloat64);
    e.keepLastDownProjDense =
        emulator.boolean("keep_last_down_proj_dense", defaults.emulator.keepLastDownProjDense);
    for (const auto &rule : emulator.strings("overrides", {})) {
        try {
            e.overrides.push_back(parseModuleRule(rule));
        } catch (const Error &error) {
            emulator.fail("overrides", std::string("has a bad rule: ") + error.what());
        }
    }
    emulator.finish();

    Section train = root.section("train");
    TrainOptions &t = config.train;
    const TrainOptions &td = defaults.train;
    using namespace run_defaults;
    t.steps = train.integer("steps", td.steps, kSteps.low, kSteps.high);
    t.epochs = train.number("epochs", td.epochs, kEpochs.low, kEpochs.high);
    t.batchSize = train.integer("batch", td.batchSize, kBatch.low, kBatch.high);
    t.gradAccum = train.integer("grad_accum", td.gradAccum, kGradAccum.low, kGradAccum.high);
    t.learningRate = train.number("lr", td.learningRate, kLearningRate.low, kLearningRate.high);
    t.schedule = parseLrSchedule(
        train.choice("schedule", lrScheduleName(td.schedule), {"cosine", "linear", "constant"}));
    t.warmupRatio = train.number("warmup_ratio", td.warmupRatio, kWarmupRatio.low, kWarmupRatio.high);
    t.adam.weightDecay =
        train.number("weight_decay", td.adam.weightDecay, kWeightDecay.low, kWeightDecay.high);
    t.maxGradNorm = train.number("max_grad_norm", td.maxGradNorm, 0, 1e6);
    t.packing = train.boolean("packing", td.packing);
    t.evalEvery = train.integer("eval_every", td.evalEvery, kEvalEvery.low, kEvalEvery.high);
    t.earlyStoppingPatience = train.integer("early_stopping", td.earlyStoppingPatience, 0, kMaxCount);
    t.checkpointEvery = train.integer("checkpoint_every", td.checkpointEvery, 0, kMaxCount);
    t.seed = static_cast<uint64_t>(train.integer("seed", int64_t(td.seed), kSeed.low, kSeed.high));
    t.gradientCheckpointing = train.boolean("gradient_checkpointing", td.gradientCheckpointing);
    Section lora = train.section("lora");
    t.lora.rank = lora.integer("rank", td.lora.rank, kLoraRank.low, kLoraRank.high);
    t.lora.alpha = lora.number("alpha", td.lora.alpha, kLoraAlpha.low, kLoraAlpha.high);
    t.lora.dropout = lora.number("dropout", td.lora.dropout, kLoraDropout.low, kLoraDropout.high);
    t.lora.rsLora = lora.boolean("rslora", td.lora.rsLora);
    if (lora.has("targets")) {
        std::string joined;
        for (const auto &target : lora.strings("targets", {}))
            joined += (joined.empty() ? "" : ",") + target;
        try {
            t.lora.targets = parseLoraTargets(joined);
        } catch (const Error &error) {
            lora.fail("targets", error.what());
        }
    }
    lora.finish();
    train.finish();

    Section correct = root.section("correct");
    config.clampLimit = correct.number("clamp", defaults.clampLimit, 0, 1e6);
    config.refine.layers = correct.integer("refine_layers", defaults.refine.layers, 0, 1 << 16);
    config.refine.train.steps = correct.integer("refine_steps", defaults.refine.train.steps, 1, kMaxCount);
    config.refine.train.learningRate =
        correct.number("refine_lr", defaults.refine.train.learningRate, 0, 10); // 0: train.lr
    correct.finish();

    Section evaluate = root.section("evaluate");
    EvaluationOptions &v = config.evaluation;
    v.metric = parseMatchMetric(
        evaluate.choice("metric", matchMetricName(defaults.evaluation.metric), {"exact", "contains"}));
    v.generation = evaluate.boolean("generation", defaults.evaluation.generation);
    v.maxNewTokens = evaluate.integer("max_new_tokens", defaults.evaluation.maxNewTokens, 1, 1 << 16);
    v.maxExamples = evaluate.integer("max_examples", defaults.evaluation.maxExamples, 0, kMaxCount);
    v.batchSize = evaluate.integer("batch", defaults.evaluation.batchSize, 1, 1 << 16);
    v.generationBatch = evaluate.integer("generation_batch", defaults.evaluation.generationBatch, 1, 1 << 16);
    evaluate.finish();

    std::vector<std::string> defaultExports;
    for (ExportFormat format : defaults.exports)
        defaultExports.push_back(exportFormatName(format));
    config.exports.clear();
    for (const auto &name : root.strings("export", defaultExports)) {
        try {
            config.exports.push_back(parseExportFormat(name));
        } catch (const Error &error) {
            root.fail("export", error.what());
        }
    }
    root.finish();
    return config;
}

PipelineConfig loadPipelineConfig(const std::string &path, const std::string &outputOverride)
{
    // A folder opens as a stream but fails on the first read with a bare "basic_filebuf::underflow".
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored))
        throw Error("the configuration path '" + path + "' is a folder; give the run's JSON file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read the configuration file '" + path + "': check the path");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) { // parse_error, or out_of_range for a huge number
        throw Error(path + ": not valid JSON (" + e.what() + ")");
    }
    const std::string baseDir = std::filesystem::absolute(path).parent_path().string();
    return pipelineConfigFromJson(json, path, baseDir, outputOverride);
}

nlohmann::json PipelineConfig::toJson() const
{
    nlohmann::json overrides = nlohmann::json::array();
    for (const auto &rule : emulator.overrides)
        overrides.push_back(rule.text());
    nlohmann::json exportNames = nlohmann::json::array();
    for (auto format : exports)
        exportNames.push_back(exportFormatName(format));
    return {{"model", model},
            {"output", outputDir},
            {"device", device},
            {"data",
             {{"train", trainData},
              {"test", testData},
              {"format", format},
              {"template", chatTemplate},
              {"system", systemPrompt},
              {"max_length", maxLength},
              {"validation_fraction", validationFraction}}},
            {"emulator",
             {{"ratio", emulator.ratio},
              {"vision_ratio", emulator.visionRatio},
              {"budget_gb", double(budgetBytes) / double(int64_t(1) << 30)},
              {"calibration_samples", emulator.calibration.samples},
              {"seed", emulator.calibration.seed},
              {"plain_svd", emulator.plainSvd},
              {"allocate_ranks", emulator.allocateRanks},
              {"gram_float64", emulator.gramFloat64},
              {"keep_last_down_proj_dense", emulator.keepLastDownProjDense},
              {"overrides", overrides}}},
            {"train",
             {{"steps", train.steps},
              {"epochs", train.epochs},
              {"batch", train.batchSize},
              {"grad_accum", train.gradAccum},
              {"lr", train.learningRate},
              {"schedule", lrScheduleName(train.schedule)},
              {"warmup_ratio", train.warmupRatio},
              {"weight_decay", train.adam.weightDecay},
              {"max_grad_norm", train.maxGradNorm},
              {"packing", train.packing},
              {"eval_every", train.evalEvery},
              {"early_stopping", train.earlyStoppingPatience},
              {"checkpoint_every", train.checkpointEvery},
              {"seed", train.seed},
              {"gradient_checkpointing", train.gradientCheckpointing},
              {"lora",
               {{"rank", train.lora.rank},
                {"alpha", train.lora.alpha},
                {"dropout", train.lora.dropout},
                {"rslora", train.lora.rsLora},
                {"targets", train.lora.targets}}}}},
            {"correct",
             {{"clamp", clampLimit},
              {"refine_layers", refine.layers},
              {"refine_steps", refine.train.steps},
              {"refine_lr", refine.train.learningRate}}},
            {"evaluate",
             {{"metric", matchMetricName(evaluation.metric)},
              {"generation", evaluation.generation},
              {"max_new_tokens", evaluation.maxNewTokens},
              {"max_examples", evaluation.maxExamples},
              {"batch", evaluation.batchSize},
              {"generation_batch", evaluation.generationBatch}}},
            {"export", exportNames}};
}

} // namespace emloc::core
