// The Model and Data pages on the engine's own readers (app/gui/engine_inspect.cpp): every dataset the
// CLI's `emloc data inspect` reads, the Data page accepts with the same record count and format (ShareGPT,
// messages, CSV and TSV included: the Studio's own parser refused them); what the CLI refuses, the page
// refuses with the same message. The Model page reports what `emloc info` reports.
#include "engine_inspect.h"
#include "gui_test_support.h"
#include "main_window.h"
#include "pages/data_page.h"
#include "pages/model_page.h"
#include "test_support.h"
#include "widgets/path_field.h"
#include "widgets/validation_label.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace emloc;
using namespace emloc::ui;
using namespace emloc::ui::testing;

namespace {

void writeText(const QString &path, const QByteArray &text)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

QByteArray chatRecords(int count)
{
    QByteArray text;
    for (int i = 0; i < count; ++i)
        text += QByteArray(R"({"messages":[{"role":"user","content":"What is )") + QByteArray::number(i) +
                R"( plus one?"},{"role":"assistant","content":"It is )" + QByteArray::number(i + 1) +
                R"(."}]})" + "\n";
    return text;
}

QJsonObject cliJson(const QStringList &arguments)
{
    const test::ProcessResult result = test::runCli(arguments);
    if (result.exitCode != 0)
        qWarning("%s", qPrintable(test::describe(result)));
    return QJsonDocument::fromJson(result.out).object();
}

Project withTraining(const QString &path)
{
    Project project;
    project.data.trainingPath = path;
    return project;
}

Project withModel(const QString &path)
{
    Project project;
    project.modelPath = path;
    return project;
}

} // namespace

class TestUiEngineInspect : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        initializeGuiTest();
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(test::demoGgufPath()), "the demo GGUF is missing: run scripts/setup.sh");
        const QString data = test::sourceDir() + "/resources/demo/bookings-train.jsonl";
        auto made =
            test::runPythonScript("stage1_make_model.py", {m_dir.filePath("model"), data, "2", "128", "256"});
        QVERIFY2(made.exitCode == 0, qPrintable(test::describe(made)));
        m_window.setInspectors(&gui::EngineInspection::model, &gui::EngineInspection::dataset);
    }

    void dataPageAcceptsWhatTheCliAccepts_data()
    {
        QTest::addColumn<QString>("file");
        for (const char *file :
             {"alpaca.csv", "alpaca.json", "chat_multiturn.jsonl", "documents.txt", "messages.jsonl",
              "prompt_completion.jsonl", "prompt_completion.tsv", "sharegpt.jsonl", "text.jsonl"})
            QTest::newRow(file) << QString::fromLatin1(file);
    }

    void dataPageAcceptsWhatTheCliAccepts()
    {
        QFETCH(QString, file);
        const QString path = test::testDataDir() + "/datasets/" + file;
        DataPage *page = m_window.dataPage();
        page->readFrom(withTraining(path));
        QVERIFY2(page->summary().ok(), qPrintable(page->summary().error));
        QVERIFY(page->trainingValidation()->state() != ValidationLabel::State::Error);
        QVERIFY(page->problem().isEmpty());
        const QJsonObject cli = cliJson({"data", "inspect", path, "--model", test::demoGgufPath(), "--json"});
        QCOMPARE(page->summary().records, qint64(cli["records"].toInt()));
        QCOMPARE(page->summary().format, cli["format"].toString());
        QCOMPARE(page->summary().fileType, cli["file_type"].toString());
        QVERIFY(!page->summary().recordsEstimated);
        QCOMPARE(page->preview()->rowCount(), std::min<int>(kPreviewRecords, cli["records"].toInt()));
        QVERIFY(!page->preview()->item(0, 0)->text().isEmpty());
    }

    void dataPagePreviewsAndRefusesAsTheCliDoes()
    {
        DataPage *page = m_window.dataPage();
        QTemporaryDir dir;
        const QString good = dir.filePath("train.jsonl");
        writeText(good, chatRecords(20));
        page->readFrom(withTraining(good));
        QCOMPARE(page->trainingValidation()->state(), ValidationLabel::State::Ok);
        QCOMPARE(page->summary().records, 20);
        QCOMPARE(page->summary().format, QStringLiteral("messages"));
        QVERIFY(page->trainingValidation()->text().contains(QStringLiteral("chat (messages)")));
        QCOMPARE(page->preview()->rowCount(), kPreviewRecords);
        QCOMPARE(page->preview()->item(2, 0)->text(), QStringLiteral("What is 2 plus one?"));
        QCOMPARE(page->preview()->item(2, 1)->text(), QStringLiteral("It is 3."));

        // A ShareGPT file: the Studio's own parser refused it while `emloc run` trained on it.
        const QString sharegpt = test::testDataDir() + "/datasets/sharegpt.jsonl";
        page->readFrom(withTraining(sharegpt));
        QVERIFY(page->trainingValidation()->text().contains(QStringLiteral("ShareGPT")));
        QCOMPARE(page->preview()->item(0, 1)->text(), QStringLiteral("Yes."));

        // Few records: usable, with a warning.
        const QString few = dir.filePath("few.jsonl");
        writeText(few, chatRecords(3));
        page->readFrom(withTraining(few));
        QCOMPARE(page->trainingValidation()->state(), ValidationLabel::State::Warning);

        // What the CLI refuses, the page refuses with the engine's message: the file and the line.
        struct Bad
        {
            const char *name;
            QByteArray text;
            const char *expected;
        };
        const Bad bad[] = {
            {"broken.jsonl", chatRecords(2) + "{\"messages\": [\n" + chatRecords(2), ":3:"},
            {"mixed.jsonl", chatRecords(2) + "{\"text\": \"plain\"}\n", "record 3"},
            {"empty.jsonl", "\n\n", "empty"},
            {"noheader.csv", "a,b\n1,2\n", "header"},
        };
        for (const Bad &b : bad) {
            const QString path = dir.filePath(QString::fromLatin1(b.name));
            writeText(path, b.text);
            page->readFrom(withTraining(path));
            QCOMPARE(page->trainingValidation()->state(), ValidationLabel::State::Error);
            const QString shown = page->trainingValidation()->text();
            QVERIFY2(shown.contains(QString::fromLatin1(b.expected)) && shown.contains(path),
                     qPrintable(shown));
            QVERIFY(!page->problem().isEmpty());
            const test::ProcessResult cli =
                test::runCli({"data", "inspect", path, "--model", test::demoGgufPath()});
            QVERIFY(cli.exitCode != 0);
            // The same sentence, give or take its first letter and final full stop.
            QString core = shown.mid(1);
            core.chop(1);
            QVERIFY2(QString::fromUtf8(cli.err).contains(core),
                     qPrintable(QString::fromUtf8(cli.err) + "\n" + core));
        }
    }

    // An image dataset: the preview gets a first column with each record's images as the engine decodes
    // them (JPEG, PNG and WebP alike); a text-only record has none; an image that cannot be read is a
    // crossed box whose tooltip names the record and the file.
    void dataPageShowsImageThumbnails()
    {
        DataPage *page = m_window.dataPage();
        page->readFrom(withTraining(test::testDataDir() + "/datasets/vision/internvl.jsonl"));
        QVERIFY2(page->summary().ok(), qPrintable(page->summary().error));
        const auto &preview = page->summary().preview;
        QCOMPARE(int(preview.size()), 4);
        QCOMPARE(int(preview[1].images.size()), 2); // blue_circle.jpg and green_triangle.webp
        for (const auto &image : preview[1].images)
            QVERIFY2(!image.thumbnail.isNull(), qPrintable(image.note));
        QVERIFY(preview[1].images[0].note.startsWith(QStringLiteral("blue_circle.jpg (48 x 64)")));
        // The pixels are the image's, also when the thumbnail keeps its size (48 x 64 fits as it is).
        const QImage &circle = preview[1].images[0].thumbnail;
        const QColor centre = circle.pixelColor(circle.width() / 2, circle.height() / 2);
        QVERIFY2(centre.blue() > 150 && centre.red() < 100 && centre.green() < 100,
                 qPrintable(centre.name()));
        QVERIFY(preview[3].images.empty());
        QTableWidget *table = page->preview();
        QCOMPARE(table->columnCount(), 3);
        QCOMPARE(table->horizontalHeaderItem(0)->text(), QStringLiteral("Images"));
        QVERIFY(!table->item(1, 0)->data(Qt::DecorationRole).value<QPixmap>().isNull());
        QCOMPARE(table->item(0, 2)->text(), QStringLiteral("A red square."));

        QTemporaryDir dir;
        writeText(dir.filePath("broken.png"), "not a picture");
        const QString data = dir.filePath("broken.jsonl");
        writeText(data, "{\"image\": \"broken.png\", \"conversations\": [{\"from\": \"human\", \"value\": "
                        "\"<image>\\nWhat is it?\"}, {\"from\": \"gpt\", \"value\": \"A box.\"}]}\n");
        page->readFrom(withTraining(data));
        const auto &broken = page->summary().preview.at(0).images.at(0);
        QVERIFY(broken.thumbnail.isNull());
        QVERIFY2(broken.note.contains(QStringLiteral("record 1")) &&
                     broken.note.contains(QStringLiteral("broken.png")),
                 qPrintable(broken.note));
        QVERIFY(page->preview()->item(0, 0)->toolTip().contains(QStringLiteral("broken.png")));

        // A text dataset afterwards: two columns again.
        page->readFrom(withTraining(test::testDataDir() + "/datasets/sharegpt.jsonl"));
        QCOMPARE(page->preview()->columnCount(), 2);
    }

    void largeFilesAreEstimatedPastTheScannedPart()
    {
        QTemporaryDir dir;
        const QString big = dir.filePath("big.jsonl");
        writeText(big, chatRecords(1).repeated(200000)); // ~17 MB, twice the part read
        const DatasetSummary summary = gui::EngineInspection::dataset(big);
        QVERIFY2(summary.ok(), qPrintable(summary.error));
        QVERIFY(summary.recordsEstimated);
        QVERIFY2(std::abs(summary.records - 200000) < 2000, qPrintable(QString::number(summary.records)));
    }

    void modelPageReportsWhatInfoReports_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("architecture");
        QTest::addColumn<QString>("storage");
        QTest::newRow("folder") << m_dir.filePath("model") << "LlamaForCausalLM"
                                << "float32";
        QTest::newRow("gguf") << test::demoGgufPath() << "llama"
                              << "Q4_1";
    }

    void modelPageReportsWhatInfoReports()
    {
        QFETCH(QString, path);
        QFETCH(QString, architecture);
        QFETCH(QString, storage);
        ModelPage *page = m_window.modelPage();
        page->readFrom(withModel(path));
        QVERIFY2(page->summary().ok(), qPrintable(page->summary().error));
        QCOMPARE(page->validation()->state(), ValidationLabel::State::Ok);
        const QJsonObject info = cliJson({"--json", "info", path});
        QCOMPARE(page->summary().parameters, qint64(info["parameters"].toObject()["total"].toDouble()));
        QCOMPARE(page->summary().layers, info["layers"].toInt());
        QCOMPARE(page->summary().hiddenSize, info["hidden_size"].toInt());
        QCOMPARE(page->summary().vocabularySize, info["vocab_size"].toInt());
        QCOMPARE(page->summary().storageType, info["stored_dtype"].toString());
        QCOMPARE(page->summary().storageType, storage);
        QCOMPARE(page->summary().architecture, architecture);
        QVERIFY(page->summary().sizeOnDiskBytes > 0);
        QCOMPARE(page->summary().weightFiles, 1);
    }

    void modelPageRefusesAsTheEngineDoes()
    {
        ModelPage *page = m_window.modelPage();
        QTemporaryDir dir;
        page->pathField()->lineEdit()->setText(dir.filePath("missing"));
        Q_EMIT page->pathField()->lineEdit()->editingFinished();
        QCOMPARE(page->validation()->state(), ValidationLabel::State::Error);
        QVERIFY(page->validation()->text().contains(QStringLiteral("does not exist")));
        QVERIFY(!page->problem().isEmpty());

        page->readFrom(withModel(dir.path())); // a folder without config.json
        QCOMPARE(page->validation()->state(), ValidationLabel::State::Error);
        QVERIFY(page->validation()->text().contains(QStringLiteral("config.json")));

        // A copy of the small model with a damaged safetensors header, then without a tokenizer.
        const QString copy = dir.filePath("copy");
        QVERIFY(QDir().mkpath(copy));
        for (const QString &name : QDir(m_dir.filePath("model")).entryList(QDir::Files))
            QVERIFY(QFile::copy(m_dir.filePath("model/" + name), copy + "/" + name));
        QFile weights(copy + "/model.safetensors");
        QVERIFY(weights.open(QIODevice::ReadWrite));
        weights.seek(8);
        weights.write("!!!!");
        weights.close();
        page->readFrom(withModel(copy));
        QCOMPARE(page->validation()->state(), ValidationLabel::State::Error);
        QVERIFY2(page->validation()->text().contains(QStringLiteral("model.safetensors")),
                 qPrintable(page->validation()->text()));

        QFile::remove(copy + "/model.safetensors");
        QVERIFY(QFile::copy(m_dir.filePath("model/model.safetensors"), copy + "/model.safetensors"));
        QVERIFY(QFile::remove(copy + "/tokenizer.json"));
        page->readFrom(withModel(copy));
        QCOMPARE(page->validation()->state(), ValidationLabel::State::Warning);
        QVERIFY(page->validation()->text().contains(QStringLiteral("tokenizer")));
        QVERIFY(page->problem().isEmpty());
    }

    // An InternVL folder: its facts and its vision parts are shown as `emloc info` gives them, and every
    // layout is accepted (the original InternLM2 one too, whose adapter is one LoRA on its fused wqkv).
    void modelPageDescribesAVisionLanguageModel()
    {
        const auto made = test::runPythonScript("internvl_make_fixtures.py", {m_dir.filePath("internvl")});
        QVERIFY2(made.exitCode == 0, qPrintable(test::describe(made)));
        const QString path = m_dir.filePath("internvl/internlm2_original");
        ModelPage *page = m_window.modelPage();
        page->readFrom(withModel(path));
        const ModelSummary &summary = page->summary();
        QVERIFY(summary.read());
        QVERIFY2(summary.ok(), qPrintable(summary.error));
        QVERIFY2(page->problem().isEmpty(), qPrintable(page->problem()));
        QCOMPARE(summary.architecture, QStringLiteral("InternVLChatModel"));
        const QJsonObject info = cliJson({"--json", "info", path});
        const QJsonObject vision = info["vision"].toObject();
        QCOMPARE(summary.parameters,
                 qint64(info["parameters"].toObject()["total"].toDouble())); // tower included
        QCOMPARE(summary.layers, info["layers"].toInt());
        QVERIFY2(summary.visionTower.startsWith(QStringLiteral("InternViT, %1 layers, hidden size %2")
                                                    .arg(vision["tower_layers"].toInt())
                                                    .arg(vision["tower_hidden_size"].toInt())),
                 qPrintable(summary.visionTower));
        QVERIFY2(summary.imageTiles.startsWith(QStringLiteral("%1-pixel tiles, %2 to %3 an image")
                                                   .arg(vision["tile_size"].toInt())
                                                   .arg(vision["min_tiles"].toInt())
                                                   .arg(vision["max_tiles"].toInt())),
                 qPrintable(summary.imageTiles));
        QVERIFY(summary.projector.startsWith(QStringLiteral("pixel-unshuffle x2, MLP 128")));
        QCOMPARE(summary.visionTowerParameters, qint64(vision["parameters"].toObject()["tower"].toDouble()));
        QCOMPARE(summary.projectorParameters,
                 qint64(vision["parameters"].toObject()["projector"].toDouble()));
        QLabel *towerRow = nullptr;
        for (QLabel *label : page->findChildren<QLabel *>())
            if (label->text().startsWith(summary.visionTower))
                towerRow = label;
        QVERIFY(towerRow && !towerRow->isHidden());

        for (const char *layout : {"internlm2_hf", "qwen2_original"}) {
            page->readFrom(withModel(m_dir.filePath(QStringLiteral("internvl/") + QLatin1String(layout))));
            QVERIFY2(page->summary().ok(), qPrintable(page->summary().error));
            QVERIFY2(page->problem().isEmpty(), qPrintable(page->problem()));
        }

        // A text model afterwards hides the vision rows again.
        page->readFrom(withModel(m_dir.filePath("model")));
        QVERIFY(page->summary().ok());
        QVERIFY(page->summary().visionTower.isEmpty());
        QVERIFY(towerRow->isHidden());
    }

private:
    QTemporaryDir m_dir;
    MainWindow m_window;
};

QTEST_MAIN(TestUiEngineInspect)
#include "test_ui_engine_inspect.moc"
