// Every `emloc` command that reads files or writes outputs, on bad input: a missing path, a folder where a
// file belongs (and a file where a folder belongs), truncated and corrupt model files, NaN and infinite
// weights, an empty or malformed dataset, a budget nothing fits, an unwritable destination and a full disk
// (RLIMIT_FSIZE). Each case must exit with the documented code (no crash, no signal), say on stderr what is
// wrong and where, and leave nothing behind in the output folder: no partial output, no temporary files, an
// existing previous output unchanged.
#include "../stages/stage3_test_util.h"
#include "test_support.h"

#include "emloc/io/peft_adapter.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <limits>
#include <sys/resource.h>

using namespace emloc;
using namespace emloc::test;

namespace {

constexpr int kOk = 0, kError = 1;

// A BPE tokenizer over single printable ASCII characters (no merges), ids 3..97 under a 128-token model.
nlohmann::json characterTokenizer()
{
    nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
    for (int c = 32; c < 127; ++c)
        vocab[std::string(1, char(c))] = c - 29;
    nlohmann::json added = nlohmann::json::array();
    for (const char *special : {"<unk>", "<s>", "</s>"})
        added.push_back(
            {{"id", vocab[special]}, {"content", special}, {"special", true}, {"normalized", false}});
    return {
        {"version", "1.0"},
        {"added_tokens", added},
        {"model",
         {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}, {"unk_token", "<unk>"}}}};
}

void writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    file.write(bytes);
}

QByteArray readBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Copies a model folder (flat) so that one of its files can be spoilt.
void copyFolder(const QString &from, const QString &to)
{
    QDir().mkpath(to);
    for (const QString &name : QDir(from).entryList(QDir::Files))
        QFile::copy(from + "/" + name, to + "/" + name);
}

// Runs the CLI with its file-size limit at `limitBytes`: writes past it fail as on a full disk.
ProcessResult runCliWithFileLimit(const QStringList &args, qint64 limitBytes)
{
    QProcess process;
    process.setChildProcessModifier([limitBytes] {
        const rlimit limit{rlim_t(limitBytes), rlim_t(limitBytes)};
        ::setrlimit(RLIMIT_FSIZE, &limit);
    });
    process.start(QStringLiteral(EMLOC_CLI_BINARY), args);
    ProcessResult result;
    if (!process.waitForStarted(30000) || !process.waitForFinished(120000)) {
        process.kill();
        process.waitForFinished();
        result.timedOut = true;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

} // namespace

class TestBadInputs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // In @/ (the fixture folder): model/ (a tiny Llama with a tokenizer), model.gguf, emulator/, adapter/,
    // data.jsonl, and spoilt copies of each. Outputs go to @/out/, which each case starts empty.
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString root = m_dir.path();
        const std::string r = root.toStdString();
        core::ModelConfig config = smallConfig("llama");
        config.vocabSize = 128;
        config.numLayers = 2;
        config.eosTokenIds = {2};
        auto weights = randomWeights(config, 7);
        auto writeModel = [&](const std::string &folder, const core::WeightSource &source) {
            writeModelFolder(folder, config, source);
            core::writeFileAtomically(folder + "/tokenizer.json", characterTokenizer().dump());
            core::writeFileAtomically(folder + "/tokenizer_config.json",
                                      R"({"bos_token": "<s>", "eos_token": "</s>"})");
        };
        writeModel(r + "/model", *weights);
        writeEmulatorFolder(r + "/emulator", config, *weights, 4);
        core::writePeftAdapter(randomAdapter(*weights, allModules(config), 2, 4.0, 3), r + "/adapter");
        // A strong adapter, and the model with it merged in, for generate --adapter.
        const core::PeftAdapter strong = randomAdapter(*weights, allModules(config), 2, 4.0, 5, 1.0);
        core::writePeftAdapter(strong, r + "/strong-adapter");
        writeModel(r + "/merged", *core::mergeAdapterWeights(weights, strong));
        core::ModelConfig other = config;
        other.intermediateSize = 64;
        core::writePeftAdapter(randomAdapter(*randomWeights(other, 4), allModules(other), 2, 4.0, 3),
                               r + "/wrong-adapter");
        QByteArray data;
        for (int i = 1; i <= 6; ++i)
            data += QString("{\"instruction\": \"Say %1\", \"output\": \"n=%1\"}\n").arg(i).toUtf8();
        writeBytes(root + "/data.jsonl", data);
        writeBytes(root + "/empty.jsonl", "");
        writeBytes(root + "/malformed.jsonl", data.left(data.indexOf('\n', data.indexOf('\n') + 1) + 1) +
                                                  "{\"instruction\": \"x\", \"output\": \n" +
                                                  data); // line 3 is cut short
        // CSV: columns no format knows (never to be trained as plain text) and a line cut short.
        writeBytes(root + "/qa.csv", "question,answer\nSay 1,n=1\n");
        writeBytes(root + "/malformed.csv", "instruction,output\nSay 1,n=1\n\"Say 2\"x,n=2\n");
        writeBytes(root + "/a-file", "not a folder\n");
        QDir().mkpath(root + "/a-folder.jsonl");
        QDir().mkpath(root + "/a-folder.gguf");
        QDir().mkpath(root + "/a-folder.json");

        auto exported =
            runCli({"-q", "export-gguf", root + "/model", root + "/model.gguf", "--dtype", "F32"});
        QVERIFY2(exported.exitCode == 0, qPrintable(describe(exported)));
        const QByteArray gguf = readBytes(root + "/model.gguf");
        writeBytes(root + "/truncated.gguf", gguf.left(gguf.size() / 2));
        QByteArray badCount = gguf;
        badCount.replace(8, 8, QByteArray::fromHex("0000000000000010")); // 2^60 tensors
        writeBytes(root + "/bad-header.gguf", badCount);

        const QByteArray safetensors = readBytes(root + "/model/model.safetensors");
        auto spoilt = [&](const QString &name, const QString &file, const QByteArray &bytes) {
            copyFolder(root + "/model", root + "/" + name);
            writeBytes(root + "/" + name + "/" + file, bytes);
        };
        spoilt("truncated", "model.safetensors", safetensors.left(safetensors.size() / 2));
        QByteArray oversized = safetensors;
        oversized.replace(0, 8, QByteArray::fromHex("0000000000000040")); // a 2^62-byte header
        spoilt("oversized-header", "model.safetensors", oversized);
        QByteArray garbage = safetensors;
        garbage.replace(8, 8, "\x01garbage");
        spoilt("garbage-header", "model.safetensors", garbage);
        spoilt("config-not-json", "config.json", "{\"model_type\": \"llama\", \n");
        QByteArray bert = readBytes(root + "/model/config.json");
        bert.replace("\"llama\"", "\"bert\"");
        spoilt("config-bert", "config.json", bert);
        spoilt("tokenizer-broken", "tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        copyFolder(root + "/model", root + "/tokenizer-folder");
        QFile::remove(root + "/tokenizer-folder/tokenizer.json");
        QDir().mkpath(root + "/tokenizer-folder/tokenizer.json");

        auto withValue = [&](const std::string &folder, double value) {
            auto bad = std::make_shared<MemoryWeights>(*weights);
            bad->tensors["model.layers.1.mlp.up_proj.weight"][3][5] = value;
            writeModel(folder, *bad);
        };
        withValue(r + "/nan", std::numeric_limits<double>::quiet_NaN());
        withValue(r + "/inf", std::numeric_limits<double>::infinity());

        auto runConfig = [&](const QString &name, const QString &model, const QString &output,
                             const QString &train, const QString &extra = {}) {
            writeBytes(root + "/" + name,
                       QString(R"({"model": "%1", "output": "%2", "data": {"train": "%3"}%4})")
                           .arg(model, output, train, extra)
                           .toUtf8());
        };
        runConfig("run-missing-data.json", "model", "out/run", "nowhere.jsonl");
        runConfig("run-bert.json", "config-bert", "out/run", "data.jsonl");
        runConfig("run-nan.json", "nan", "out/run", "data.jsonl");
        runConfig("run-malformed.json", "model", "out/run", "malformed.jsonl");
        runConfig("run-budget.json", "model", "out/run", "data.jsonl",
                  R"(, "emulator": {"budget_gb": 0.001})");
        runConfig("run-unwritable.json", "model", "a-file/run", "data.jsonl");
        runConfig("run-vision-ratio.json", "model", "out/run", "data.jsonl",
                  R"(, "emulator": {"vision_ratio": 0.4})");
        writeBytes(root + "/run-not-json.json", "{\"model\": ");
    }

    void failsCleanly_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QStringList>("messages"); // each must be in stderr ("@/" is the fixture folder)
        QTest::addColumn<qint64>("fileLimit");     // RLIMIT_FSIZE in bytes, -1: none
        QTest::addColumn<QString>("previous");     // a file in out/ written before, that must stay unchanged
        QTest::addColumn<QStringList>("remains");  // paths in out/ a failed run keeps by design

        const QString train =
            "train,@/model,--data,@/data.jsonl,--out,@/out/t,--steps,1,--batch,1,--grad-accum,1";
        const QString build =
            "build-emulator,@/model,--data,@/data.jsonl,--out,@/out/e,--calibration-samples,2,"
            "--max-length,64";
        const QString correct =
            "correct,--model,@/model,--emulator,@/emulator,--adapter,@/adapter,--out,@/out/c";
        const QString evaluate = "evaluate,--model,@/model,--data,@/data.jsonl,--no-generation";
        const QString exportAdapter = "export,--model,@/model,--adapter,@/adapter";
        const QString missing = "does not exist";

        auto add = [](const char *name, const QString &args, int code, const QString &messages,
                      qint64 fileLimit = -1, const QString &previous = {}, const QString &remains = {}) {
            QTest::newRow(name) << args.split(',') << code << messages.split('|') << fileLimit << previous
                                << (remains.isEmpty() ? QStringList() : remains.split(','));
        };

        // A missing path.
        add("info/missing", "info,@/nowhere", kError, "@/nowhere|" + missing);
        add("convert/missing", "convert,@/nowhere.gguf,@/out/c", kError, "@/nowhere.gguf|" + missing);
        add("export-gguf/missing", "export-gguf,@/nowhere,@/out/x.gguf", kError, "@/nowhere|" + missing);
        add("generate/missing", "generate,@/nowhere,--prompt,hi", kError, "@/nowhere|" + missing);
        add("tokenize/missing", "tokenize,@/nowhere,--text,hi", kError, "@/nowhere|" + missing);
        add("data-inspect/missing-data", "data,inspect,@/nowhere.jsonl,--model,@/model", kError,
            "@/nowhere.jsonl|cannot open the dataset file");
        add("data-inspect/missing-model", "data,inspect,@/data.jsonl,--model,@/nowhere", kError,
            "@/nowhere|" + missing);
        add("train/missing-model", QString(train).replace("@/model", "@/nowhere"), kError,
            "@/nowhere|" + missing);
        add("train/missing-data", QString(train).replace("@/data.jsonl", "@/nowhere.jsonl"), kError,
            "@/nowhere.jsonl|cannot open the dataset file");
        add("plan/missing", "plan,@/nowhere", kError, "@/nowhere|" + missing);
        add("plan/missing-data", "plan,@/model,--data,@/nowhere.jsonl", kError, "@/nowhere.jsonl");
        add("build-emulator/missing-data", QString(build).replace("@/data.jsonl", "@/nowhere.jsonl"), kError,
            "@/nowhere.jsonl|cannot open the dataset file");
        add("evaluate-loss/missing-data", "evaluate-loss,@/model,--data,@/nowhere.jsonl", kError,
            "@/nowhere.jsonl");
        add("correct/missing-emulator", QString(correct).replace("@/emulator", "@/nowhere"), kError,
            "@/nowhere|" + missing);
        add("correct/missing-adapter", QString(correct).replace("@/adapter", "@/nowhere"), kError,
            "@/nowhere|" + missing);
        add("evaluate/missing-data", QString(evaluate).replace("@/data.jsonl", "@/nowhere.jsonl"), kError,
            "@/nowhere.jsonl");
        add("evaluate/missing-corrected", evaluate + ",--corrected,@/nowhere", kError,
            "@/nowhere|" + missing);
        add("evaluate/nothing-to-evaluate", evaluate + ",--skip-original", kError, "Nothing to evaluate");
        add("bench-forward/missing", "bench,forward,@/nowhere", kError, "@/nowhere|" + missing);
        add("bench-svd/layer-outside", "bench,svd,@/model,--layer,2", kError,
            "--layer 2 is outside the model's 2 layers (0 to 1)");
        add("bench-logits/bad-id", "bench,logits,@/model,--ids,x,--out,@/out/l.safetensors", kError,
            "--ids: \"x\" is not a token id between 0 and 127");
        add("bench-logits/no-sequence", "bench,logits,@/model,--out,@/out/l.safetensors", kError,
            "give the sequence as --ids");
        add("bench-logits/folder-for-output", "bench,logits,@/model,--ids,1,--out,@/a-folder.json", kError,
            "@/a-folder.json");
        add("export/missing-adapter",
            "export,--model,@/model,--adapter,@/nowhere,--format,peft,--out,@/out/p", kError,
            "@/nowhere|" + missing);
        add("export/no-adapter", "export,--model,@/model,--format,peft,--out,@/out/p", kError,
            "peft export needs the adapter (--adapter)");
        add("export/mmproj-of-text-model", "export,--model,@/model,--format,gguf-mmproj,--out,@/out/m.gguf",
            kError, "@/model|is a text model|vision-language");
        add("run/missing-config", "run,@/nowhere.json", kError, "@/nowhere.json");
        add("run/missing-data", "run,@/run-missing-data.json", kError,
            "nowhere.jsonl|" + missing + "|data.train");

        // A folder where a file belongs, a file where a folder belongs.
        add("info/file-for-model", "info,@/a-file", kError, "@/a-file|neither a .gguf file nor a folder");
        add("convert/folder-for-gguf", "convert,@/a-folder.gguf,@/out/c", kError,
            "@/a-folder.gguf|config.json");
        add("data-inspect/folder-for-data", "data,inspect,@/a-folder.jsonl,--model,@/model", kError,
            "@/a-folder.jsonl|is a folder");
        add("train/folder-for-data", QString(train).replace("@/data.jsonl", "@/a-folder.jsonl"), kError,
            "@/a-folder.jsonl|is a folder");
        add("run/folder-for-config", "run,@/a-folder.json", kError, "@/a-folder.json|is a folder");
        add("tokenize/folder-for-tokenizer.json", "tokenize,@/tokenizer-folder,--text,hi", kError,
            "tokenizer-folder/tokenizer.json|it is a folder");
        add("correct/file-for-emulator", QString(correct).replace("@/emulator", "@/a-file"), kError,
            "@/a-file");
        add("export/file-for-adapter",
            "export,--model,@/model,--adapter,@/a-file,--format,peft,--out,@/out/p", kError, "@/a-file");
        add("export-gguf/folder-for-output", "export-gguf,@/model,@/a-folder.gguf", kError,
            "@/a-folder.gguf|a folder of that name exists");
        add("evaluate/folder-for-output", evaluate + ",--output,@/a-folder.json", kError,
            "@/a-folder.json|a folder of that name exists");

        // Truncated and corrupt model files.
        add("info/truncated-safetensors", "info,@/truncated", kError,
            "@/truncated/model.safetensors|truncated");
        add("generate/truncated-safetensors", "generate,@/truncated,--prompt,hi", kError,
            "@/truncated/model.safetensors|truncated");
        add("export-gguf/truncated-safetensors", "export-gguf,@/truncated,@/out/x.gguf", kError,
            "@/truncated/model.safetensors|truncated");
        add("build-emulator/truncated-safetensors", QString(build).replace("@/model", "@/truncated"), kError,
            "@/truncated/model.safetensors|truncated");
        add("info/oversized-header", "info,@/oversized-header", kError,
            "@/oversized-header/model.safetensors|not plausible");
        add("train/oversized-header", QString(train).replace("@/model", "@/oversized-header"), kError,
            "@/oversized-header/model.safetensors|not plausible");
        add("info/garbage-header", "info,@/garbage-header", kError,
            "@/garbage-header/model.safetensors|not valid JSON");
        add("info/truncated-gguf", "info,@/truncated.gguf", kError, "@/truncated.gguf|truncated");
        add("convert/truncated-gguf", "convert,@/truncated.gguf,@/out/c", kError,
            "@/truncated.gguf|truncated");
        add("export-gguf/truncated-gguf", "export-gguf,@/truncated.gguf,@/out/x.gguf", kError,
            "@/truncated.gguf|truncated");
        add("generate/truncated-gguf", "generate,@/truncated.gguf,--prompt,hi", kError,
            "@/truncated.gguf|truncated");
        add("info/bad-header-gguf", "info,@/bad-header.gguf", kError, "@/bad-header.gguf|header is corrupt");
        add("info/config-not-json", "info,@/config-not-json", kError,
            "@/config-not-json/config.json|not valid JSON");
        add("tokenize/config-not-json", "tokenize,@/config-not-json,--text,hi", kError,
            "@/config-not-json/config.json|not valid JSON");
        add("info/config-bert", "info,@/config-bert", kError, "@/config-bert/config.json|model_type 'bert'");
        add("build-emulator/config-bert", QString(build).replace("@/model", "@/config-bert"), kError,
            "@/config-bert/config.json|model_type 'bert'");
        add("plan/config-bert", "plan,@/config-bert", kError, "model_type 'bert'");
        add("run/config-bert", "run,@/run-bert.json", kError, "config-bert/config.json|model_type 'bert'");
        add("tokenize/tokenizer-broken", "tokenize,@/tokenizer-broken,--text,hi", kError,
            "@/tokenizer-broken/tokenizer.json|not valid JSON");
        add("generate/tokenizer-broken", "generate,@/tokenizer-broken,--prompt,hi", kError,
            "@/tokenizer-broken/tokenizer.json");
        add("data-inspect/tokenizer-broken", "data,inspect,@/data.jsonl,--model,@/tokenizer-broken", kError,
            "@/tokenizer-broken/tokenizer.json");
        add("run/config-not-json", "run,@/run-not-json.json", kError, "@/run-not-json.json|not valid JSON");

        // generate --adapter: a missing folder, a file, an adapter for another model.
        const QString generate = "generate,@/model,--prompt,hi,--max-new-tokens,2,--adapter,";
        add("generate/missing-adapter", generate + "@/nowhere", kError, "@/nowhere|" + missing);
        add("generate/file-for-adapter", generate + "@/a-file", kError, "@/a-file|" + missing);
        add("generate/model-for-adapter", generate + "@/model", kError, "@/model|has no adapter_config.json");
        add("generate/wrong-adapter", generate + "@/wrong-adapter", kError,
            "adapter folder '@/wrong-adapter' does not fit|another model");

        // NaN or infinite weights: every command that computes with the weights or copies them refuses,
        // naming the tensor (`info` reads no weight values and describes the model as usual).
        const QString nanTensor = "NaN or infinite values in tensor 'model.layers.1.mlp.up_proj.weight'";
        add("generate/nan", "generate,@/nan,--prompt,hi,--max-new-tokens,2", kError, "@/nan|" + nanTensor);
        add("evaluate-loss/nan", "evaluate-loss,@/nan,--data,@/data.jsonl,--calibration-samples,2", kError,
            "@/nan|" + nanTensor);
        add("build-emulator/nan", QString(build).replace("@/model", "@/nan"), kError, "@/nan|" + nanTensor);
        add("build-emulator/inf", QString(build).replace("@/model", "@/inf"), kError, "@/inf|" + nanTensor);
        add("train/nan", QString(train).replace("@/model", "@/nan"), kError, "@/nan|" + nanTensor);
        add("export-gguf/nan", "export-gguf,@/nan,@/out/x.gguf", kError, "@/nan|" + nanTensor);
        add("evaluate/inf", QString(evaluate).replace("@/model", "@/inf"), kError, "@/inf|" + nanTensor);
        add("correct/nan", QString(correct).replace("@/model", "@/nan"), kError, "@/nan|" + nanTensor);
        add("export/nan-merged", "export,--model,@/nan,--adapter,@/adapter,--format,merged,--out,@/out/m",
            kError, "@/nan|" + nanTensor);
        add("run/nan", "run,@/run-nan.json", kError, "nan|" + nanTensor, -1, {}, "run/run-config.json");

        // An empty dataset and one with a malformed line (named by file and line).
        add("data-inspect/empty", "data,inspect,@/empty.jsonl,--model,@/model", kError,
            "@/empty.jsonl|empty");
        add("train/empty", QString(train).replace("@/data.jsonl", "@/empty.jsonl"), kError,
            "@/empty.jsonl|empty");
        add("build-emulator/empty", QString(build).replace("@/data.jsonl", "@/empty.jsonl"), kError,
            "@/empty.jsonl|empty");
        add("evaluate/empty", QString(evaluate).replace("@/data.jsonl", "@/empty.jsonl"), kError,
            "@/empty.jsonl|empty");
        add("plan/empty", "plan,@/model,--data,@/empty.jsonl", kError, "@/empty.jsonl|empty");
        const QString line3 = "@/malformed.jsonl:3:|invalid JSON";
        add("data-inspect/malformed", "data,inspect,@/malformed.jsonl,--model,@/model", kError, line3);
        add("train/malformed", QString(train).replace("@/data.jsonl", "@/malformed.jsonl"), kError, line3);
        add("build-emulator/malformed", QString(build).replace("@/data.jsonl", "@/malformed.jsonl"), kError,
            line3);
        add("evaluate-loss/malformed", "evaluate-loss,@/model,--data,@/malformed.jsonl", kError, line3);
        add("evaluate/malformed", QString(evaluate).replace("@/data.jsonl", "@/malformed.jsonl"), kError,
            line3);
        add("run/malformed", "run,@/run-malformed.json", kError, "malformed.jsonl:3:|invalid JSON", -1, {},
            "run/run-config.json");
        // A CSV is read by its header, never as plain text: unknown columns and a malformed line are refused.
        const QString csvColumns =
            "instruction and output (optional: input, system), prompt and completion, or text";
        add("train/csv-unknown-columns", QString(train).replace("@/data.jsonl", "@/qa.csv"), kError,
            "@/qa.csv:1: the CSV header (question, answer)|" + csvColumns);
        add("data-inspect/csv-unknown-columns", "data,inspect,@/qa.csv,--model,@/model", kError,
            "@/qa.csv:1:|" + csvColumns);
        add("train/csv-malformed", QString(train).replace("@/data.jsonl", "@/malformed.csv"), kError,
            "@/malformed.csv:3: text after the closing quote of field 1");

        // A budget too small for any ratio.
        add("plan/budget", "plan,@/model,--budget-gb,0.001", kError,
            "No compression ratio fits|Raise the budget");
        add("build-emulator/budget", build + ",--budget-gb,0.001", kError, "No compression ratio fits");
        add("run/budget", "run,@/run-budget.json", kError, "No compression ratio fits", -1, {},
            "run/run-config.json");

        // A vision tower to compress in a text model.
        add("build-emulator/vision-ratio", build + ",--vision-ratio,0.4", kError, "@/model|text model");
        add("run/vision-ratio", "run,@/run-vision-ratio.json", kError, "emulator.vision_ratio|text model", -1,
            {}, "run/run-config.json");

        // A destination that cannot be written, even by root: below a regular file, or in /proc.
        add("export-gguf/unwritable", "export-gguf,@/model,@/a-file/x.gguf", kError, "@/a-file/x.gguf");
        add("export-gguf/proc", "export-gguf,@/model,/proc/emloc-test.gguf", kError, "/proc/emloc-test.gguf");
        add("convert/unwritable", "convert,@/model.gguf,@/a-file/c", kError, "@/a-file/c");
        add("train/unwritable", QString(train).replace("@/out/t", "@/a-file/t"), kError, "@/a-file/t");
        add("build-emulator/unwritable", QString(build).replace("@/out/e", "@/a-file/e"), kError,
            "@/a-file/e");
        add("build-emulator/unwritable-metrics", build + ",--metrics,@/a-file/m.jsonl", kError,
            "@/a-file/m.jsonl|metrics file");
        add("correct/unwritable", QString(correct).replace("@/out/c", "@/a-file/c"), kError, "@/a-file/c");
        add("evaluate/unwritable", evaluate + ",--output,@/a-file/r.json", kError, "@/a-file/r.json");
        add("export/unwritable-peft", exportAdapter + ",--format,peft,--out,@/a-file/p", kError,
            "@/a-file/p");
        add("export/unwritable-gguf-lora", exportAdapter + ",--format,gguf-lora,--out,/proc/emloc-test.gguf",
            kError, "/proc/emloc-test.gguf");
        add("run/unwritable", "run,@/run-unwritable.json", kError, "a-file/run");

        // A full disk: writes fail part-way (RLIMIT_FSIZE); a previous output stays as it was.
        const QString tooLarge = "File too large";
        add("export-gguf/full-disk", "export-gguf,@/model,@/out/x.gguf", kError, "x.gguf|" + tooLarge, 16384);
        add("export-gguf/full-disk-previous", "export-gguf,@/model,@/out/previous.gguf", kError,
            "previous.gguf|" + tooLarge, 16384, "previous.gguf");
        add("convert/full-disk", "convert,@/model.gguf,@/out/c", kError, "model.safetensors|" + tooLarge,
            16384);
        add("build-emulator/full-disk", build, kError, "@/out/e.partial-|.safetensors|" + tooLarge, 16384);
        add("train/full-disk", train, kError, "adapter_model.safetensors|" + tooLarge, 4096, {},
            "t/metrics.jsonl");
        add("correct/full-disk", correct, kError, "adapter_model.safetensors|" + tooLarge, 4096);
        add("evaluate/full-disk", evaluate + ",--output,@/out/r.json", kError, "r.json|" + tooLarge, 0);
        add("export/full-disk-peft", exportAdapter + ",--format,peft,--out,@/out/p", kError,
            "adapter_model.safetensors|" + tooLarge, 4096);
        add("export/full-disk-merged", exportAdapter + ",--format,merged,--out,@/out/m", kError,
            "model.safetensors|" + tooLarge, 16384);
        add("export/full-disk-gguf-lora", exportAdapter + ",--format,gguf-lora,--out,@/out/l.gguf", kError,
            "l.gguf|" + tooLarge, 4096);
        add("export/full-disk-gguf-merged", exportAdapter + ",--format,gguf-merged,--out,@/out/g.gguf",
            kError, "g.gguf|" + tooLarge, 16384);
    }

    void failsCleanly()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QStringList, messages);
        QFETCH(qint64, fileLimit);
        QFETCH(QString, previous);
        QFETCH(QStringList, remains);
        const QString root = m_dir.path();
        const QString out = root + "/out";
        QVERIFY(QDir(out).removeRecursively() && QDir().mkpath(out));
        const QByteArray previousContent = "an earlier output\n";
        if (!previous.isEmpty())
            writeBytes(out + "/" + previous, previousContent);

        QStringList expanded{"-q"};
        for (const QString &arg : args)
            expanded << QString(arg).replace("@/", root + "/");
        const ProcessResult result =
            fileLimit >= 0 ? runCliWithFileLimit(expanded, fileLimit) : runCli(expanded, 120000);
        QVERIFY2(!result.timedOut, qPrintable(describe(result)));
        QVERIFY2(result.exitCode == exitCode, qPrintable(describe(result))); // -1: killed by a signal
        const QString err = QString::fromUtf8(result.err);
        QVERIFY2(err.contains("error: "), qPrintable(describe(result)));
        for (const QString &message : messages)
            QVERIFY2(err.contains(QString(message).replace("@/", root + "/")),
                     qPrintable("stderr lacks \"" + message + "\"\n" + describe(result)));

        // Nothing left in out/ but the previous output (unchanged) and what a failed run keeps by design.
        QSet<QString> allowed;
        for (const QString &path : remains + QStringList{previous})
            for (QString part = path; !part.isEmpty(); part = part.section('/', 0, -2))
                allowed.insert(part);
        QStringList left;
        QDirIterator it(out, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = QDir(out).relativeFilePath(it.next());
            if (!allowed.contains(path))
                left << path;
        }
        QVERIFY2(left.isEmpty(), qPrintable("left behind: " + left.join(", ")));
        if (!previous.isEmpty())
            QCOMPARE(readBytes(out + "/" + previous), previousContent);
        // Nothing in the fixture folder either (an output below a file, staging next to an input).
        const QStringList strays =
            QDir(root).entryList({"*.partial*", "*.tmp*", ".*.tmp*", "*staging*"},
                                 QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
        QVERIFY2(strays.isEmpty(), qPrintable("left behind: " + strays.join(", ")));
    }

    // generate --adapter merges the adapter into the weights: the tokens differ from the model's own and
    // are those of the model with the adapter merged in on disk.
    void generateWithAdapterUsesTheMergedWeights()
    {
        const QString root = m_dir.path();
        auto generate = [&](const QString &model, const QStringList &extra) {
            return runCli(QStringList{"-q", "--json", "generate", model, "--prompt", "Say 3",
                                      "--max-new-tokens", "12"} +
                          extra);
        };
        auto tokensOf = [](const ProcessResult &result) {
            return nlohmann::json::parse(result.out.toStdString())["new_tokens"].dump();
        };
        const ProcessResult plain = generate(root + "/model", {});
        const ProcessResult adapted = generate(root + "/model", {"--adapter", root + "/strong-adapter"});
        const ProcessResult merged = generate(root + "/merged", {});
        for (const ProcessResult &result : {plain, adapted, merged})
            QVERIFY2(result.exitCode == 0, qPrintable(describe(result)));
        QVERIFY2(tokensOf(plain) != tokensOf(adapted), tokensOf(plain).c_str());
        QCOMPARE(tokensOf(adapted), tokensOf(merged));
    }

    // bin/emloc is a launcher that parses without LibTorch: help and usage errors never start the engine
    // (here: it is missing), a valid command does, and a missing engine is named with what to do.
    void helpAndUsageErrorsNeedNoEngine()
    {
        QProcess readelf;
        readelf.start(QStringLiteral("readelf"), {QStringLiteral("-d"), QStringLiteral(EMLOC_CLI_BINARY)});
        QVERIFY(readelf.waitForFinished(30000));
        const QByteArray dynamic = readelf.readAllStandardOutput();
        QVERIFY2(dynamic.contains("NEEDED") && !dynamic.contains("torch") && !dynamic.contains("c10"),
                 dynamic.constData());

        auto runWithoutEngine = [](const QStringList &args) {
            QProcess process;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert(QStringLiteral("EMLOC_ENGINE"), QStringLiteral("/nonexistent/emloc-engine"));
            process.setProcessEnvironment(environment);
            process.start(QStringLiteral(EMLOC_CLI_BINARY), args);
            ProcessResult result;
            result.timedOut = !process.waitForFinished(30000);
            result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
            result.out = process.readAllStandardOutput();
            result.err = process.readAllStandardError();
            return result;
        };
        const ProcessResult help = runWithoutEngine({"train", "--help"});
        QVERIFY2(help.exitCode == kOk && help.out.contains("--lora-rank"), qPrintable(describe(help)));
        const ProcessResult usage = runWithoutEngine({"train", "--lr", "fast"});
        QVERIFY2(usage.exitCode == 2 && usage.err.contains("--lr"), qPrintable(describe(usage)));
        // A float type by any of its names (core's one table), checked before the engine starts.
        const QStringList train = {"train", "model", "--data", "data.jsonl", "--out", "out", "--dtype"};
        const ProcessResult alias = runWithoutEngine(train + QStringList{"float32"});
        QVERIFY2(alias.exitCode == kError && alias.err.contains("EMLOC_ENGINE"), qPrintable(describe(alias)));
        const ProcessResult badType = runWithoutEngine(train + QStringList{"float8"});
        QVERIFY2(badType.exitCode == 2 &&
                     badType.err.contains("'float8' is not one of {auto|fp32|bf16|fp16}"),
                 qPrintable(describe(badType)));
        // Named choices from core's tables too: another spelling core reads is accepted, and a refusal
        // lists the table's names.
        const QStringList trainBase = {"train", "model", "--data", "data.jsonl", "--out", "out"};
        const ProcessResult spelling =
            runWithoutEngine(trainBase + QStringList{"--format", "openai", "--template", "mistral"});
        QVERIFY2(spelling.exitCode == kError && spelling.err.contains("EMLOC_ENGINE"),
                 qPrintable(describe(spelling)));
        const ProcessResult badSchedule = runWithoutEngine(trainBase + QStringList{"--schedule", "step"});
        QVERIFY2(badSchedule.exitCode == 2 &&
                     badSchedule.err.contains("'step' is not one of {cosine|linear|constant}"),
                 qPrintable(describe(badSchedule)));
        const ProcessResult example = runWithoutEngine({"run", "--example"});
        QVERIFY2(example.exitCode == kOk && example.out.contains("\"model\""), qPrintable(describe(example)));
        const ProcessResult devices = runWithoutEngine({"devices"});
        QVERIFY2(devices.exitCode == kError && devices.err.contains("/nonexistent/emloc-engine") &&
                     devices.err.contains("EMLOC_ENGINE"),
                 qPrintable(describe(devices)));
        // With the engine in place (beside the launcher), the same command runs.
        const ProcessResult real = runCli({"devices"});
        QVERIFY2(real.exitCode == kOk && real.out.contains("cpu"), qPrintable(describe(real)));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestBadInputs)
#include "test_bad_inputs.moc"
