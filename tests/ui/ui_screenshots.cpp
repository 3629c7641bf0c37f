// Renders every page of EMLoC Studio to <output>/<page>.png, with a realistic project: the demo
// GGUF model, a generated chat dataset, and a synthetic run (tests/ui/synthetic_job.h) paused at 60 %
// for the Run page. Run it under Xvfb:
//   xvfb-run -s "-screen 0 1400x900x24" emloc_ui_screenshots docs/screenshots [--lang zh_TW]
#include "about_dialog.h"
#include "application_setup.h"
#include "jobs/job_controller.h"
#include "main_window.h"
#include "pages/run_page.h"
#include "synthetic_job.h"
#include "test_support.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace emloc::ui;

namespace {

void writeDataset(const QString &path)
{
    const char *questions[][2] = {
        {"Summarise the water cycle in one sentence.",
         "Water evaporates, condenses into clouds, falls as precipitation and flows back to the sea."},
        {"Translate 'good morning' into French.", "Bonjour."},
        {"What is the capital of Australia?", "Canberra."},
        {"Give a synonym for 'rapid'.", "Fast."},
        {"How many minutes are in three hours?", "180 minutes."},
        {"Name a prime number between 20 and 30.", "23 (29 is another)."},
        {"What does CPU stand for?", "Central processing unit."},
        {"Write a haiku about autumn leaves.",
         "Crimson leaves drifting / whisper to the cooling earth / summer's last goodbye"},
        {"Convert 5 kilometres to metres.", "5,000 metres."},
        {"Who wrote 'Pride and Prejudice'?", "Jane Austen."},
    };
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return;
    for (int i = 0; i < 1200; ++i) {
        const auto &qa = questions[i % 10];
        file.write(
            QStringLiteral("{\"messages\":[{\"role\":\"user\",\"content\":\"%1\"},{\"role\":\"assistant\","
                           "\"content\":\"%2\"}]}\n")
                .arg(QString::fromUtf8(qa[0]), QString::fromUtf8(qa[1]))
                .toUtf8());
    }
}

bool save(QWidget *window, const QString &folder, const QString &name)
{
    QApplication::processEvents();
    QTest::qWait(150); // queued replots and layouts settle
    const QString path = QDir(folder).filePath(name + QStringLiteral(".png"));
    const bool ok = window->grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "FAILED", qPrintable(path));
    return ok;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // a clean settings store, not the user's
    initializeApplication(app);
    QSettings().clear();
    const QStringList args = QApplication::arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: emloc_ui_screenshots <output folder> [--lang en|zh_TW]\n");
        return 2;
    }
    const QString output = args.at(1);
    QDir().mkpath(output);
    const int langIndex = static_cast<int>(args.indexOf(QStringLiteral("--lang")));
    installTranslations(app, langIndex > 0 && langIndex + 1 < args.size() ? args.at(langIndex + 1)
                                                                          : QStringLiteral("en"));
    applyStyle(app);

    QTemporaryDir work;
    const QString data = work.filePath(QStringLiteral("chat-train.jsonl"));
    writeDataset(data);
    Project project;
    project.modelPath = QString::fromUtf8(EMLOC_DEMO_GGUF);
    project.data.trainingPath = data;
    project.budget.mode = BudgetSettings::Mode::MemoryBudget;
    project.budget.budgetGiB = 6.0;
    project.exportSettings.outputFolder = work.filePath(QStringLiteral("smollm2-chat-lora"));

    auto state = std::make_shared<testing::SyntheticJobState>();
    testing::SyntheticJobOptions options;
    options.trainingSteps = 500;
    options.validateEvery = 50;
    options.stepTime = std::chrono::microseconds(3000);

    MainWindow window;
    window.setTrainingJobFactory(
        [&](const Project &) { return testing::syntheticTrainingJob(options, state); });
    window.setProject(project, work.filePath(QStringLiteral("smollm2-chat.emloc")));
    window.resize(1200, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        std::fprintf(stderr, "the window was not exposed; the screenshots may be empty\n");
    QTest::qWait(1500); // the device list arrives from its thread

    bool ok = true;
    const QStringList names{"model", "data", "budget", "run", "results", "export"};
    for (int i : {0, 1, 2}) {
        window.showPage(i);
        ok = save(&window, output, names[i]) && ok;
    }

    window.startTraining();
    while (state->trainingStepsDone < 300 && window.jobController()->isRunning())
        QTest::qWait(10);
    window.jobController()->pause();
    QTest::qWait(300);
    ok = save(&window, output, names[3]) && ok;
    window.jobController()->resume();
    while (window.jobController()->isRunning())
        QTest::qWait(20);
    for (int i : {4, 5}) {
        window.showPage(i);
        ok = save(&window, output, names[i]) && ok;
    }

    AboutDialog about(&window);
    about.show();
    if (!QTest::qWaitForWindowExposed(&about))
        std::fprintf(stderr, "the About dialog was not exposed\n");
    ok = save(&about, output, QStringLiteral("about")) && ok;
    window.setWindowModified(false);
    return ok ? 0 : 1;
}
