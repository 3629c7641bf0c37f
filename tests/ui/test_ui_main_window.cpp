// The main window: pages, title, navigation, About, defaults, and the pages' validation messages.
#include "main_window.h"

#include "about_dialog.h"
#include "gui_test_support.h"
#include "jobs/job_controller.h"
#include "pages/budget_page.h"
#include "pages/data_page.h"
#include "pages/export_page.h"
#include "pages/model_page.h"
#include "pages/run_page.h"
#include "synthetic_job.h"
#include "test_support.h"
#include "widgets/catalog_fit_dialog.h"
#include "widgets/memory_plot.h"
#include "widgets/page.h"
#include "widgets/path_field.h"
#include "widgets/scientific_spin_box.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/validation_label.h"

#include "emloc/api/device.h"
#include "emloc/api/version.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

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

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { initializeGuiTest(); }

    void constructsWithAllPagesAndTitle()
    {
        QElapsedTimer clock;
        clock.start();
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        qInfo("MainWindow constructed and shown in %lld ms", static_cast<long long>(clock.elapsed()));

        QCOMPARE(window.navigation()->count(), MainWindow::kPageCount);
        const QStringList expected{"modelPage", "dataPage",    "budgetPage",
                                   "runPage",   "resultsPage", "exportPage"};
        for (int i = 0; i < MainWindow::kPageCount; ++i) {
            QVERIFY(window.page(i));
            QCOMPARE(window.page(i)->objectName(), expected[i]);
            QCOMPARE(window.navigation()->item(i)->text(), window.page(i)->title());
        }
        QVERIFY(window.windowTitle().contains(QLatin1String(kProductName)));
        QVERIFY(window.windowTitle().contains(QLatin1String(kVersion)));
        QVERIFY(window.windowTitle().contains(QStringLiteral("Untitled project")));
        QCOMPARE(window.size(), QSize(1200, 800)); // no saved geometry in a clean settings store
        QVERIFY(!window.isWindowModified());
    }

    void navigationSwitchesPages()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.navigation()->setCurrentRow(MainWindow::ResultsPageIndex);
        QCOMPARE(window.currentPageIndex(), int(MainWindow::ResultsPageIndex));
        // Ctrl+3: the Budget page, from the keyboard.
        QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
        QCOMPARE(window.currentPageIndex(), int(MainWindow::BudgetPageIndex));
        QCOMPARE(window.navigation()->currentRow(), int(MainWindow::BudgetPageIndex));
    }

    // The widgets link core's torch-free interface only (emloc_api): this suite, which links the
    // widgets and nothing of the engine, must not load LibTorch at all.
    void widgetsRunWithoutLibTorch()
    {
        MainWindow window;
        window.show();
        QFile maps(QStringLiteral("/proc/self/maps"));
        QVERIFY(maps.open(QIODevice::ReadOnly));
        const QByteArray mapped = maps.readAll();
        QVERIFY(mapped.contains("libQt6Widgets"));
        QVERIFY2(!mapped.contains("libtorch") && !mapped.contains("libc10"),
                 "LibTorch is loaded by a program that links only the widgets");
    }

    void aboutDialogShowsVersions()
    {
        // The engine's versions are handed to the window (the widgets do not link LibTorch).
        core::BuildInfo info;
        info.emlocVersion = kVersion;
        info.libtorchVersion = "2.99.1";
        info.cudaCompiled = true;
        info.cudaVersion = "13.7";
        MainWindow window;
        window.setBuildInfo(info);
        window.show();
        QString versions;
        QString title;
        auto seen = handleNextModal(QStringLiteral("aboutDialog"), [&](QDialog *dialog) {
            versions = static_cast<AboutDialog *>(dialog)->versionsText();
            title = dialog->windowTitle();
            dialog->reject();
        });
        window.showAbout(); // modal: returns once the handler closed it
        QVERIFY(*seen);
        QVERIFY(title.contains(QLatin1String(kProductName)));
        QVERIFY2(versions.contains(QString::fromLatin1(qVersion())), qPrintable(versions));
        QVERIFY2(versions.contains(QString::fromStdString(info.libtorchVersion)), qPrintable(versions));
        QVERIFY2(versions.contains(QStringLiteral("CUDA: ")), qPrintable(versions));
        QVERIFY2(versions.contains(QStringLiteral("13.7, no usable GPU found")), qPrintable(versions));
        QVERIFY(versions.contains(QLatin1String(kVersion)));
    }

    // The fields start from core's defaults (emloc/api/run_defaults.h), as `emloc run` does.
    void trainingSettingsHaveCoresDefaults()
    {
        MainWindow window;
        BudgetPage *page = window.budgetPage();
        QCOMPARE(page->findChild<QSpinBox *>("loraRank")->value(), 8);
        QCOMPARE(page->findChild<QDoubleSpinBox *>("loraAlpha")->value(), 16.0);
        QCOMPARE(page->findChild<QDoubleSpinBox *>("loraDropout")->value(), 0.05);
        QCOMPARE(page->findChild<ScientificSpinBox *>("learningRate")->value(), 1e-4);
        QCOMPARE(page->findChild<ScientificSpinBox *>("learningRate")->text(), QStringLiteral("1e-4"));
        QCOMPARE(page->findChild<QSpinBox *>("batchSize")->value(), 2);
        QCOMPARE(page->findChild<QSpinBox *>("gradientAccumulation")->value(), 4);
        QCOMPARE(page->findChild<QSpinBox *>("steps")->value(), 0); // "from epochs"
        QCOMPARE(page->findChild<QSpinBox *>("steps")->text(), QStringLiteral("from epochs"));
        QCOMPARE(page->findChild<QDoubleSpinBox *>("epochs")->value(), 1.0);
        QVERIFY(page->findChild<QDoubleSpinBox *>("epochs")->isEnabled());
        QCOMPARE(page->findChild<QSpinBox *>("evaluationInterval")->text(), QStringLiteral("at the end"));
        QCOMPARE(page->findChild<QDoubleSpinBox *>("warmup")->value(), 3.0);
        QCOMPARE(page->findChild<QDoubleSpinBox *>("weightDecay")->value(), 0.01);
        QCOMPARE(page->findChild<QSpinBox *>("maxLength")->value(), 512);
        QCOMPARE(page->findChild<QSpinBox *>("calibrationSamples")->value(), 64);
        QCOMPARE(page->findChild<QDoubleSpinBox *>("ratio")->value(), 0.4);
        for (QWidget *widget : page->findChildren<QAbstractSpinBox *>())
            QVERIFY2(!widget->toolTip().isEmpty(), qPrintable(widget->objectName()));

        // The widgets and the project agree.
        QVERIFY(window.currentProject().training == TrainingSettings());
        QCOMPARE(window.currentProject().budget.calibrationSamples, 64);

        // An edit marks the project modified.
        page->findChild<QSpinBox *>("loraRank")->setValue(16);
        QVERIFY(window.isWindowModified());
        QCOMPARE(window.currentProject().training.loraRank, 16);
    }

    void devicesAreListedWithMemory()
    {
        MainWindow window;
        BudgetPage *page = window.budgetPage();
        QTRY_VERIFY_WITH_TIMEOUT(!page->devices().empty(), 20000);
        QCOMPARE(page->devices().front().id, std::string("cpu"));
        QVERIFY(page->devices().front().totalBytes > 0);
        QVERIFY(page->devices().front().freeBytes > 0);
        QCOMPARE(page->deviceTree()->topLevelItemCount(), static_cast<int>(page->devices().size()));
        QVERIFY(page->deviceTree()->topLevelItem(0)->text(1).contains(QStringLiteral("GiB")));
        QVERIFY(!page->selectedDevice().isEmpty());
        auto *status = window.statusBar()->findChild<QLabel *>("deviceStatus");
        QVERIFY(status->text().startsWith(page->selectedDevice()));

        // A budget above the device's total memory is an error that says so.
        page->findChild<QRadioButton *>("budgetMode")->setChecked(true);
        auto *budget = page->findChild<QDoubleSpinBox *>("budgetGiB");
        std::vector<core::DeviceInfo> devices{{"cpu", "CPU (2 threads)", 8LL << 30, 6LL << 30}};
        page->setDevices(devices);
        budget->setValue(7.0);
        QCOMPARE(page->fitMessage()->state(), ValidationLabel::State::Warning);
        budget->setValue(9.0);
        QCOMPARE(page->fitMessage()->state(), ValidationLabel::State::Error);
        QVERIFY(page->fitMessage()->text().contains(QStringLiteral("8.00 GiB")));
        QVERIFY(!page->problem().isEmpty());
        budget->setValue(4.0);
        QCOMPARE(page->fitMessage()->state(), ValidationLabel::State::Ok);
        QCOMPARE(page->budgetBytes(), 4LL << 30);
    }

    // Ctrl-click picks several GPUs: the project runs on the list, one process each; the budget is each
    // GPU's, so the fullest decides; the CPU beside GPUs is no process of its own.
    void severalGpusArePickedTogether()
    {
        MainWindow window;
        BudgetPage *page = window.budgetPage();
        page->setDevices({{"cpu", "CPU (2 threads)", 32LL << 30, 30LL << 30},
                          {"cuda:0", "GPU A", 24LL << 30, 22LL << 30},
                          {"cuda:1", "GPU B", 24LL << 30, 10LL << 30}});
        QCOMPARE(page->selectedDevice(), QStringLiteral("cuda:0")); // a new project: the first GPU
        QTreeWidget *tree = page->deviceTree();
        for (int row : {0, 1, 2})
            tree->topLevelItem(row)->setSelected(true);
        QCOMPARE(page->selectedDevice(), QStringLiteral("cuda:0,1"));
        Project project;
        page->writeTo(project);
        QCOMPARE(project.budget.device, QStringLiteral("cuda:0,1"));
        QLabel *several = nullptr;
        for (QLabel *label : page->findChildren<QLabel *>("hint"))
            if (label->accessibleName() == QStringLiteral("severalGpus"))
                several = label;
        QVERIFY(several);
        QVERIFY2(!several->isHidden() && several->text().startsWith(QStringLiteral("2 GPUs")),
                 qPrintable(several->text()));
        page->findChild<QRadioButton *>("budgetMode")->setChecked(true);
        auto *budget = page->findChild<QDoubleSpinBox *>("budgetGiB");
        budget->setValue(12.0); // fits cuda:0's free memory, not cuda:1's
        QCOMPARE(page->fitMessage()->state(), ValidationLabel::State::Warning);
        QVERIFY2(page->fitMessage()->text().contains(QStringLiteral("cuda:1")),
                 qPrintable(page->fitMessage()->text()));
        budget->setValue(8.0);
        QCOMPARE(page->fitMessage()->state(), ValidationLabel::State::Ok);
        QVERIFY(page->fitMessage()->text().contains(QStringLiteral("each of the 2 GPUs")));
        // A saved list is selected again; one click on a single row goes back to one device.
        project.budget.device = QStringLiteral("cuda:1,0");
        page->readFrom(project);
        QVERIFY(tree->topLevelItem(1)->isSelected() && tree->topLevelItem(2)->isSelected());
        QVERIFY(!tree->topLevelItem(0)->isSelected());
        tree->setCurrentItem(tree->topLevelItem(0), 0, QItemSelectionModel::ClearAndSelect); // a plain click
        QCOMPARE(page->selectedDevice(), QStringLiteral("cpu"));
        QVERIFY(!tree->topLevelItem(1)->isSelected());
    }

    // "What fits…" asks the planner for the device's memory (or the typed budget), and again for a
    // memory, device, value width or sequence length typed in the dialog; fits read green, misfits red.
    void whatFitsListsTheCatalogForTheDevice()
    {
        MainWindow window;
        BudgetPage *page = window.budgetPage();
        QVERIFY(!page->catalogButton()->isEnabled()); // no planner plugged in
        std::vector<CatalogQuery> asked;
        window.setCatalogFitProvider([&asked](const Project &, const CatalogQuery &query) {
            asked.push_back(query);
            CatalogFits fits;
            CatalogFit small{QStringLiteral("tiny-1b"),
                             QStringLiteral("org/Tiny-1B"),
                             1'200'000'000,
                             3LL << 30,
                             true,
                             5LL << 30,
                             true,
                             true,
                             1.0,
                             3LL << 30,
                             QString()};
            CatalogFit large{QStringLiteral("big-70b"),
                             QStringLiteral("org/Big-70B"),
                             70'000'000'000,
                             140LL << 30,
                             false,
                             150LL << 30,
                             false,
                             false,
                             0.05,
                             90LL << 30,
                             QString()};
            CatalogFit middle{QStringLiteral("mid-8b"),
                              QStringLiteral("org/Mid-8B"),
                              8'000'000'000,
                              16LL << 30,
                              query.memoryBytes >= (16LL << 30),
                              22LL << 30,
                              false,
                              true,
                              0.41,
                              15LL << 30,
                              QStringLiteral("at or above the paper's ratio (0.4)")};
            fits.models = {small, middle, large};
            return fits;
        });
        QVERIFY(page->catalogButton()->isEnabled());
        page->setDevices({{"cpu", "CPU (2 threads)", 8LL << 30, 6LL << 30}});
        page->catalogButton()->click();
        auto *dialog = window.findChild<CatalogFitDialog *>();
        QVERIFY(dialog);
        QCOMPARE(asked.size(), size_t(1));
        QCOMPARE(asked.back().memoryBytes, 8LL << 30); // the selected device's whole memory
        QVERIFY(!asked.back().cuda);
        QCOMPARE(dialog->table()->topLevelItemCount(), 3);
        QTreeWidgetItem *middle = dialog->table()->topLevelItem(1);
        QCOMPARE(middle->text(0), QStringLiteral("mid-8b"));
        QVERIFY(middle->text(4).contains(QStringLiteral("0.41")));
        QVERIFY(middle->text(5).contains(QStringLiteral("paper")));
        QCOMPARE(dialog->table()->topLevelItem(0)->text(4), QStringLiteral("not needed"));
        QVERIFY(dialog->table()->topLevelItem(2)->text(4).startsWith(QStringLiteral("does not fit")));
        QVERIFY(middle->foreground(2) != middle->foreground(4)); // inference red at 8 GiB, EMLoC green
        QVERIFY(dialog->summary()->text().contains(QStringLiteral("1 of 3 models run inference")));

        dialog->memoryBox()->setValue(24);
        QCOMPARE(asked.back().memoryBytes, 24LL << 30);
        middle = dialog->table()->topLevelItem(1);              // the table is rebuilt
        QCOMPARE(middle->foreground(2), middle->foreground(4)); // at 24 GiB inference fits too
        dialog->deviceBox()->setCurrentIndex(0);
        QVERIFY(asked.back().cuda);
        dialog->valuesBox()->setCurrentIndex(2);
        QCOMPARE(asked.back().valueBytes, 4);
        dialog->lengthBox()->setValue(2048);
        QCOMPARE(asked.back().sequenceLength, 2048);
        QVERIFY(dialog->summary()->text().contains(QStringLiteral("2 of 3 models run inference")));
        dialog->close();

        // In budget mode the typed budget is the memory asked about.
        page->findChild<QRadioButton *>("budgetMode")->setChecked(true);
        page->findChild<QDoubleSpinBox *>("budgetGiB")->setValue(6.0);
        page->catalogButton()->click();
        QCOMPARE(asked.back().memoryBytes, 6LL << 30);
    }

    void exportPageValidatesFolder()
    {
        MainWindow window;
        ExportPage *page = window.exportPage();
        QTemporaryDir dir;
        page->readFrom([&] {
            Project p;
            p.exportSettings.outputFolder = dir.filePath("out/adapter");
            return p;
        }());
        QCOMPARE(page->folderValidation()->state(), ValidationLabel::State::Ok);
        QVERIFY(page->folderValidation()->text().contains(QStringLiteral("created")));
        writeText(dir.filePath("file"), "x");
        page->readFrom([&] {
            Project p;
            p.exportSettings.outputFolder = dir.filePath("file");
            return p;
        }());
        QCOMPARE(page->folderValidation()->state(), ValidationLabel::State::Error);
        // Without an export pipeline and a trained adapter, Export stays disabled.
        QVERIFY(!page->exportButton()->isEnabled());
    }

    void startExplainsWhatIsMissing()
    {
        MainWindow window;
        window.show();
        auto state = std::make_shared<SyntheticJobState>();
        window.setTrainingJobFactory([state](const Project &) { return syntheticTrainingJob({}, state); });
        window.showPage(MainWindow::RunPageIndex);
        QVERIFY(window.runPage()->startButton()->isEnabled());
        auto text = std::make_shared<QString>();
        auto seen = answerNextMessageBox(QStringLiteral("errorDialog"), QMessageBox::Ok, text);
        window.runPage()->startButton()->click();
        QVERIFY(*seen);
        QVERIFY2(text->contains(QStringLiteral("Model page")), qPrintable(*text));
        QCOMPARE(window.currentPageIndex(), int(MainWindow::ModelPageIndex));
        QVERIFY(!state->started);
        QVERIFY(!window.jobController()->isRunning());
    }

    void withoutPipelineStartSaysSo()
    {
        MainWindow window;
        QVERIFY(!window.runPage()->startButton()->isEnabled());
        auto *hint = window.runPage()->findChildren<QLabel *>("hint").first();
        QVERIFY(hint->text().contains(QStringLiteral("not available")));
    }

    // The Budget page's advanced settings reach the project as a JSON object; text that is not one is
    // named, blocks Run, and leaves the last good settings in place.
    void advancedSettingsAreAJsonObject()
    {
        MainWindow window;
        BudgetPage *page = window.budgetPage();
        auto *editor = page->findChild<QPlainTextEdit *>("advancedSettings");
        QVERIFY(editor);
        QVERIFY(editor->toPlainText().isEmpty());
        editor->setPlainText(QStringLiteral(R"({"train": {"schedule": "linear"}})"));
        QCOMPARE(window.currentProject().advanced["train"].toObject()["schedule"].toString(),
                 QStringLiteral("linear"));
        QVERIFY(page->problem().isEmpty());
        editor->setPlainText(QStringLiteral("{\n\"train\": {\"schedule\": \"linear\"},\n\"evaluate\" 5\n}"));
        QVERIFY2(page->problem().contains(QStringLiteral("line 3")), qPrintable(page->problem()));
        QCOMPARE(window.currentProject().advanced["train"].toObject()["schedule"].toString(),
                 QStringLiteral("linear"));
        editor->setPlainText(QStringLiteral("[1]"));
        QVERIFY2(page->problem().contains(QStringLiteral("JSON object")), qPrintable(page->problem()));
        editor->clear();
        QVERIFY(page->problem().isEmpty());
        QVERIFY(window.currentProject().advanced.isEmpty());

        Project project = window.currentProject();
        project.advanced = QJsonObject{{"evaluate", QJsonObject{{"metric", "contains"}}}};
        window.setProject(project);
        QVERIFY(editor->toPlainText().contains(QStringLiteral("\"contains\"")));
        QCOMPARE(window.currentProject().advanced, project.advanced);
    }

    // File > Export Run Configuration… hands the current project to the engine's writer.
    void exportRunConfigurationUsesTheEngine()
    {
        MainWindow window;
        auto *action = window.findChild<QAction *>("exportRunConfiguration");
        QVERIFY(action);
        QVERIFY(!action->isEnabled()); // no engine, nothing to write with
        Project written;
        QString writtenTo;
        window.setRunConfigurationWriter([&](const Project &project, const QString &path) {
            written = project;
            writtenTo = path;
        });
        QVERIFY(action->isEnabled());
        Project project = window.currentProject();
        project.training.learningRate = 3e-4;
        window.setProject(project);
        QVERIFY(window.exportRunConfiguration(QStringLiteral("/tmp/run.json")));
        QCOMPARE(writtenTo, QStringLiteral("/tmp/run.json"));
        QCOMPARE(written.training.learningRate, 3e-4);
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("emloc run")));
    }

    void memoryPlotShowsBudgetLine()
    {
        MainWindow window;
        window.runPage()->prepareRun(6LL << 30);
        QVERIFY(window.runPage()->memoryPlot()->budgetLineVisible());
        QCOMPARE(window.runPage()->memoryPlot()->budgetBytes(), 6LL << 30);
        window.runPage()->prepareRun(0);
        QVERIFY(!window.runPage()->memoryPlot()->budgetLineVisible());
    }

    // A project whose run folder holds a calibrated emulator shows its retained-energy curve on the Budget
    // page, and the summary says what the chosen ratio keeps; a project without a run shows none.
    void budgetPageShowsTheRetainedEnergyOfTheLastRun()
    {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("run/emulator")));
        QJsonArray ratios, retained;
        for (int i = 1; i <= 10; ++i) {
            ratios.append(0.1 * i);
            retained.append(1.0 - 0.01 / i);
        }
        const QJsonObject curve{{"ratios", ratios}, {"retained_energy", retained}};
        writeText(dir.filePath("run/emulator/emulator.json"),
                  QJsonDocument(QJsonObject{{"energy_curve", curve}}).toJson());

        MainWindow window;
        Project project;
        project.exportSettings.outputFolder = dir.filePath("run");
        project.budget.ratio = 0.4;
        window.setProject(project);
        BudgetPage *budget = window.budgetPage();
        QCOMPARE(budget->tradeOffPlot()->retainedEnergyPointCount(), 10);

        PlanPreview preview;
        preview.ratio = 0.4;
        for (int i = 1; i <= 10; ++i)
            preview.curve.push_back({0.1 * i, 1LL << 30, 1LL << 28, 1LL << 29, 1LL << 28});
        budget->setPlanPreview(preview);
        const QString summary = budget->findChild<QLabel *>("tradeOffSummary")->text();
        QVERIFY2(summary.contains("keeps 99.750 %"), qPrintable(summary)); // 1 - 0.01 / 4 at ratio 0.4
        QVERIFY2(!summary.contains("Refining"), qPrintable(summary));      // the run does not refine

        // Refinement's own peak is said, and when the budget is below it, that the run skips it.
        preview.refinementBytes = 3LL << 29;
        budget->setPlanPreview(preview);
        QString refining = budget->findChild<QLabel *>("tradeOffSummary")->text();
        QVERIFY2(refining.contains("Refining the last layers") && refining.contains("1.50 GiB") &&
                     !refining.contains("over the budget"),
                 qPrintable(refining));
        preview.budgetBytes = 1LL << 30;
        budget->setPlanPreview(preview);
        refining = budget->findChild<QLabel *>("tradeOffSummary")->text();
        QVERIFY2(refining.contains("over the budget") && refining.contains("corrected adapter"),
                 qPrintable(refining));

        window.setProject(Project());
        QCOMPARE(budget->tradeOffPlot()->retainedEnergyPointCount(), 0);
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_ui_main_window.moc"
