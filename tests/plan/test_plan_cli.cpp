// `emloc plan --catalog` / `--config` as a user calls them: the table, the JSON (which agrees with the
// planner's own fit), and the errors for a missing budget, an unknown model or a missing file.
#include "emloc/plan/model_catalog.h"
#include "emloc/stages/pipeline.h"
#include "test_support.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace emloc::core;
using emloc::test::describe;
using emloc::test::runCli;

namespace {
constexpr int64_t kGiB = int64_t(1) << 30;

QJsonObject jsonOf(const emloc::test::ProcessResult &result)
{
    return QJsonDocument::fromJson(result.out).object();
}
} // namespace

class TestPlanCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void planTheCatalogFromTheCommandLine()
    {
        auto table = runCli({"plan", "--catalog", "all", "--budget-gb", "24", "--for", "cuda"});
        QVERIFY2(table.exitCode == 0, qPrintable(describe(table)));
        for (const char *text : {"What fits in 24.0 GiB on a CUDA GPU", "llama-3.1-70b", "qwen3-8b", "ratio"})
            QVERIFY2(table.out.contains(text), qPrintable(describe(table)));

        auto json = runCli({"--json", "plan", "--catalog", "all", "--budget-gb", "24", "--for", "cuda"});
        QVERIFY2(json.exitCode == 0, qPrintable(describe(json)));
        const QJsonArray rows = jsonOf(json)["models"].toArray();
        QCOMPARE(rows.size(), qsizetype(catalogModels().size()));
        for (const auto &value : rows) {
            const QJsonObject row = value.toObject();
            const std::string name = row["name"].toString().toStdString();
            PipelineConfig run; // the run's defaults, on a GPU
            run.device = "cuda";
            const ModelFit fit = planFit(catalogModel(name).config, pipelinePlanSettings(run), 24 * kGiB);
            QCOMPARE(row["inference_fits"].toBool(), fit.inferenceFits);
            QCOMPARE(row["emloc_fits"].toBool(), fit.emloc.fits);
        }

        auto one =
            runCli({"--json", "plan", "--catalog", "qwen2.5-7b", "--budget-gb", "12", "--for", "cuda"});
        QVERIFY2(one.exitCode == 0, qPrintable(describe(one)));
        QVERIFY(jsonOf(one)["fits"].toBool());

        auto noBudget = runCli({"plan", "--catalog", "all"});
        QCOMPARE(noBudget.exitCode, 1);
        QVERIFY2(noBudget.err.contains("--budget-gb"), qPrintable(describe(noBudget)));
        auto unknown = runCli({"plan", "--catalog", "gpt-5"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("qwen3-8b"), qPrintable(describe(unknown)));
        auto nothing = runCli({"plan"});
        QCOMPARE(nothing.exitCode, 2);
        QVERIFY2(nothing.err.contains("--catalog"), qPrintable(describe(nothing)));
    }

    // A config.json alone plans as the catalog entry with the same shape does.
    void planFromAConfigFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("config.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromStdString(modelConfigToJson(catalogModel("qwen3-4b").config).dump()));
        file.close();
        auto fromFile = runCli({"--json", "plan", "--config", path, "--ratio", "0.4"});
        auto fromCatalog = runCli({"--json", "plan", "--catalog", "qwen3-4b", "--ratio", "0.4"});
        QVERIFY2(fromFile.exitCode == 0, qPrintable(describe(fromFile)));
        QCOMPARE(jsonOf(fromFile), jsonOf(fromCatalog));
        auto withData = runCli({"plan", "--config", path, "--data", "x.jsonl"});
        QCOMPARE(withData.exitCode, 1);
        QVERIFY2(withData.err.contains("--data"), qPrintable(describe(withData)));
        auto missing = runCli({"plan", "--config", dir.filePath("none.json")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("none.json"), qPrintable(describe(missing)));
    }
};

QTEST_GUILESS_MAIN(TestPlanCli)
#include "test_plan_cli.moc"
