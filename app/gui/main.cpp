// `emloc-studio`: EMLoC Studio, the desktop application (ui/ holds all of it but this entry point).
#include "application_setup.h"
#include "engine_inspect.h"
#include "engine_jobs.h"
#include "engine_project.h"
#include "engine_run_record.h"
#include "main_window.h"
#include "self_test.h"

#include "emloc/api/version.h"
#include "emloc/util/torch_runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>

#include <cstring>

namespace {

void describeOptions(QCommandLineParser &parser, QCommandLineOption &languageOption)
{
    parser.setApplicationDescription(QStringLiteral("%1: fine-tune models too big for your GPU with EMLoC.")
                                         .arg(QString::fromLatin1(emloc::kProductName)));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption(languageOption);
    parser.addOption(QCommandLineOption(QStringLiteral("demo"),
                                        QStringLiteral("Open the bundled demo model and dataset.")));
    parser.addOption(QCommandLineOption(
        QStringLiteral("self-test"),
        QStringLiteral("Check the installation (icons, translations, demo, engine, main window), print one "
                       "line per check and exit: 0 when all pass.")));
    parser.addPositionalArgument(QStringLiteral("project"),
                                 QStringLiteral("A project file (*.emloc) to open."),
                                 QStringLiteral("[project]"));
}

// --help and --version print and exit; they must work without a display.
bool onlyPrints(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        for (const char *option : {"-h", "--help", "--help-all", "-?", "-v", "--version"}) {
            if (std::strcmp(argv[i], option) == 0)
                return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char *argv[])
{
    QCommandLineOption languageOption(QStringLiteral("lang"),
                                      QStringLiteral("User interface language: en, zh_TW or system."),
                                      QStringLiteral("language"));
    if (onlyPrints(argc, argv)) {
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QString::fromLatin1(emloc::kProductName));
        QCoreApplication::setApplicationVersion(QString::fromLatin1(emloc::kVersion));
        QCommandLineParser parser;
        describeOptions(parser, languageOption);
        parser.process(app); // exits
        return 0;
    }

    QApplication app(argc, argv);
    emloc::ui::initializeApplication(app);
    emloc::core::configureThreads(0); // LibTorch's own default counts the host's cores, not a CPU quota
    QCommandLineParser parser;
    describeOptions(parser, languageOption);
    parser.process(app);
    if (parser.isSet(QStringLiteral("self-test")))
        return emloc::gui::runSelfTest(app);

    const QString language =
        parser.isSet(languageOption)
            ? parser.value(languageOption)
            : QSettings().value(QStringLiteral("ui/language"), QStringLiteral("system")).toString();
    emloc::ui::installTranslations(app, language);
    emloc::ui::applyStyle(app);

    emloc::ui::MainWindow window;
    window.setTrainingJobFactory(&emloc::gui::PipelineJobs::training);
    window.setExportJobFactory(&emloc::gui::PipelineJobs::exporting);
    window.setRunConfigurationWriter(&emloc::gui::writeRunConfiguration);
    window.setPlanProvider(&emloc::gui::PipelineJobs::plan);
    window.setDatasetStatsProvider(&emloc::gui::PipelineJobs::datasetStats);
    window.setCatalogFitProvider(&emloc::gui::PipelineJobs::catalogFits);
    window.setInspectors(&emloc::gui::EngineInspection::model, &emloc::gui::EngineInspection::dataset);
    window.setChatGenerator(&emloc::gui::PipelineJobs::chat);
    window.setRunRecordReader(&emloc::gui::readRunRecord);
    window.setBuildInfo(emloc::core::buildInfo());
    if (!parser.positionalArguments().isEmpty()) {
        window.openProject(parser.positionalArguments().first());
    } else if (parser.isSet(QStringLiteral("demo")) || window.currentProject().modelPath.isEmpty()) {
        // A first start (or --demo) opens on the demo, so pressing Run works right away.
        if (auto demo = emloc::gui::demoProject(QStringLiteral(EMLOC_SOURCE_DIR)))
            window.setProject(*demo);
    }
    window.show();
    return QApplication::exec();
}
