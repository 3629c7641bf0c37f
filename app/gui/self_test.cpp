#include "self_test.h"

#include "application_setup.h"
#include "engine_inspect.h"
#include "engine_jobs.h"
#include "engine_project.h"
#include "format.h"
#include "installed_data.h"
#include "main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QIcon>
#include <QImage>

#include <cstdio>

namespace emloc::gui {

namespace {

bool report(bool passed, const QString &what, const QString &detail)
{
    std::printf("%s %s: %s\n", passed ? "ok  " : "FAIL", qPrintable(what), qPrintable(detail));
    std::fflush(stdout);
    return passed;
}

} // namespace

int runSelfTest(QApplication &app)
{
    bool passed = true;
    const QString installed = ui::installedDataDirectory();
    report(true, QStringLiteral("data"),
           installed.isEmpty() ? QStringLiteral("build tree %1").arg(QStringLiteral(EMLOC_SOURCE_DIR))
                               : installed);

    const QImage icon = QIcon(QStringLiteral(":/icons/emloc-studio.svg")).pixmap(48, 48).toImage();
    const bool iconDrawn = !icon.isNull() && icon.pixelColor(24, 24).alpha() > 0;
    passed &= report(iconDrawn, QStringLiteral("icons"),
                     iconDrawn ? QStringLiteral("SVG icons render")
                               : QStringLiteral("SVG icons do not render: "
                                                "install libqt6svg6"));

    const QString language = ui::installTranslations(app, QStringLiteral("zh_TW"));
    passed &= report(language == QLatin1String("zh_TW"), QStringLiteral("translations"),
                     QStringLiteral("zh_TW requested, %1 loaded").arg(language));
    ui::installTranslations(app, QStringLiteral("en"));

    const auto demo = demoProject(QStringLiteral(EMLOC_SOURCE_DIR));
    if (!report(demo.has_value(), QStringLiteral("demo"),
                demo ? demo->modelPath : QStringLiteral("the demo model or data is missing")))
        return 1;

    QElapsedTimer timer;
    timer.start();
    const ui::PlanPreview plan = PipelineJobs::plan(*demo);
    const bool planned = plan.error.isEmpty() && !plan.curve.empty();
    passed &= report(planned, QStringLiteral("engine"),
                     planned ? QStringLiteral("demo model read and planned in %1 ms: inference %2")
                                   .arg(timer.elapsed())
                                   .arg(ui::formatBytes(plan.curve.front().inferenceBytes))
                             : plan.error);

    const ui::ModelSummary model = EngineInspection::model(demo->modelPath);
    const ui::DatasetSummary data = EngineInspection::dataset(demo->data.trainingPath);
    passed &= report(model.ok() && data.ok(), QStringLiteral("readers"),
                     !model.ok()  ? model.error
                     : !data.ok() ? data.error
                                  : QStringLiteral("demo model (%1, %2 layers) and data (%3 records) read")
                                        .arg(model.storageType)
                                        .arg(model.layers)
                                        .arg(data.records));

    ui::MainWindow window;
    window.setPlanProvider(&PipelineJobs::plan);
    window.setInspectors(&EngineInspection::model, &EngineInspection::dataset);
    window.setProject(*demo);
    window.show();
    QApplication::processEvents();
    const QImage shot = window.grab().toImage();
    const bool painted = !shot.isNull() && shot.width() > 200 && shot.height() > 200;
    passed &= report(painted, QStringLiteral("window"),
                     QStringLiteral("main window painted at %1x%2").arg(shot.width()).arg(shot.height()));
    window.close();
    std::printf("%s\n", passed ? "self-test passed" : "self-test FAILED");
    return passed ? 0 : 1;
}

} // namespace emloc::gui
