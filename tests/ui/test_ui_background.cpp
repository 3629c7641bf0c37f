// The GUI's background threads other than jobs, with stand-ins for the engine: dataset statistics
// (a newer request wins over a slower, older one), the side-by-side chat (tokens stream in, in order,
// and Stop ends it), and the device list. The tsan preset runs this suite under ThreadSanitizer.
#include "main_window.h"

#include "gui_test_support.h"
#include "jobs/background_task.h"
#include "pages/budget_page.h"
#include "pages/data_page.h"
#include "pages/results_page.h"
#include "widgets/chat_panel.h"

#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace emloc::ui;
using namespace emloc::ui::testing;
using namespace std::chrono_literals;

namespace {
Project projectWithData(const QString &trainingPath)
{
    Project project;
    project.modelPath = QStringLiteral("/models/stand-in");
    project.data.trainingPath = trainingPath;
    return project;
}
} // namespace

class TestBackground : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { initializeGuiTest(); }

    void resultArrivesOnTheReceiversThread()
    {
        QObject receiver;
        std::thread::id workedOn;
        std::thread::id deliveredOn;
        std::vector<int> delivered;
        QPointer<QThread> thread = runInBackground(
            &receiver,
            [&workedOn] {
                workedOn = std::this_thread::get_id();
                return std::vector<int>{1, 2, 3};
            },
            [&](std::vector<int> values) {
                deliveredOn = std::this_thread::get_id();
                delivered = std::move(values);
            });
        QTRY_COMPARE(delivered, (std::vector<int>{1, 2, 3}));
        QVERIFY(workedOn != std::this_thread::get_id());
        QCOMPARE(deliveredOn, std::this_thread::get_id());
        QTRY_VERIFY(thread.isNull()); // the thread object deleted itself
    }

    void resultIsDroppedWhenTheReceiverIsGone()
    {
        std::atomic<bool> release{false};
        bool delivered = false;
        QPointer<QThread> thread;
        {
            QObject receiver;
            thread = runInBackground(
                &receiver,
                [&release] {
                    while (!release)
                        std::this_thread::sleep_for(1ms);
                    return 7;
                },
                [&delivered](int) { delivered = true; });
        }
        release = true;
        QTRY_VERIFY(thread.isNull());
        QTest::qWait(50);
        QVERIFY(!delivered);
    }

    void newerStatisticsWinOverAnOlderSlowerRequest()
    {
        MainWindow window;
        std::atomic<int> calls{0};
        window.setDatasetStatsProvider([&calls](const Project &project) {
            ++calls;
            DatasetStats stats;
            const bool old = project.data.trainingPath.endsWith(QLatin1String("old.jsonl"));
            // The older request answers last: its result must not replace the newer one's.
            std::this_thread::sleep_for(old ? 300ms : 10ms);
            stats.records = old ? 1 : 2;
            stats.used = stats.records;
            stats.templateName = project.data.trainingPath;
            return stats;
        });
        window.setProject(projectWithData(QStringLiteral("/data/old.jsonl")));
        QTRY_COMPARE(calls.load(), 1);
        window.setProject(projectWithData(QStringLiteral("/data/new.jsonl")));
        QTRY_COMPARE(window.dataPage()->stats().records, qint64(2));
        QTest::qWait(400); // the old request has finished by now
        QCOMPARE(window.dataPage()->stats().records, qint64(2));
        QCOMPARE(window.dataPage()->stats().templateName, QStringLiteral("/data/new.jsonl"));
    }

    void chatStreamsBothAnswersInOrder()
    {
        ChatPanel panel;
        const int pieces = 300;
        panel.setGenerator([](const Project &, const QString &which, const QString &, const QString &,
                              const std::function<bool(const QString &)> &onText) {
            for (int i = 0; i < pieces; ++i) {
                if (!onText(which.left(1) + QString::number(i) + QLatin1Char(' ')))
                    return;
                if (i % 50 == 0)
                    std::this_thread::sleep_for(2ms); // several GUI ticks see partial answers
            }
        });
        QSignalSpy finished(&panel, &ChatPanel::finished);
        panel.ask(QStringLiteral("hello"));
        QVERIFY(panel.isBusy());
        QVERIFY(finished.wait(20000));
        QString original, corrected;
        for (int i = 0; i < pieces; ++i) {
            original += QStringLiteral("o%1 ").arg(i);
            corrected += QStringLiteral("c%1 ").arg(i);
        }
        QCOMPARE(panel.originalAnswer()->toPlainText(), original);
        QCOMPARE(panel.correctedAnswer()->toPlainText(), corrected);
        QVERIFY(!panel.isBusy());
        QCOMPARE(finished.count(), 1);
    }

    void chatStopEndsBothAnswers()
    {
        ChatPanel panel;
        std::atomic<int> calls{0};
        panel.setGenerator([&calls](const Project &, const QString &, const QString &, const QString &,
                                    const std::function<bool(const QString &)> &onText) {
            ++calls;
            while (onText(QStringLiteral("x"))) // until Stop
                std::this_thread::sleep_for(1ms);
        });
        QSignalSpy finished(&panel, &ChatPanel::finished);
        panel.ask(QStringLiteral("go on forever"));
        QTRY_VERIFY(!panel.originalAnswer()->toPlainText().isEmpty());
        panel.stop();
        QVERIFY(finished.wait(10000));
        QCOMPARE(calls.load(), 1); // the corrected model was not started after Stop
        QVERIFY(panel.correctedAnswer()->toPlainText().isEmpty());
    }

    void chatErrorIsShownInTheAnswer()
    {
        ChatPanel panel;
        panel.setGenerator([](const Project &, const QString &which, const QString &, const QString &,
                              const std::function<bool(const QString &)> &onText) {
            if (which == QLatin1String("corrected"))
                throw std::runtime_error("no adapter yet: run the pipeline first");
            onText(QStringLiteral("fine"));
        });
        QSignalSpy finished(&panel, &ChatPanel::finished);
        panel.ask(QStringLiteral("hi"));
        QVERIFY(finished.wait(10000));
        QCOMPARE(panel.originalAnswer()->toPlainText(), QStringLiteral("fine"));
        QVERIFY(panel.correctedAnswer()->toPlainText().contains(QLatin1String("no adapter yet")));
    }

    // A vision-language model's chat: the chosen image goes with the prompt to both models; a text
    // model's hides the image row and sends none.
    void chatSendsTheChosenImage()
    {
        ChatPanel panel;
        QStringList seen;
        std::mutex seenMutex;
        panel.setGenerator([&](const Project &, const QString &which, const QString &, const QString &image,
                               const std::function<bool(const QString &)> &onText) {
            const std::lock_guard<std::mutex> lock(seenMutex);
            seen << which + QLatin1Char(':') + image;
            onText(QStringLiteral("ok"));
        });
        panel.setAcceptsImages(true);
        panel.setImage(QStringLiteral("/pictures/receipt.png"));
        QVERIFY(panel.findChild<QLabel *>(QStringLiteral("chatImageName"))
                    ->text()
                    .contains(QLatin1String("receipt.png")));
        QSignalSpy finished(&panel, &ChatPanel::finished);
        panel.ask(QStringLiteral("What is the total?"));
        QVERIFY(finished.wait(10000));
        QCOMPARE(seen, (QStringList{QStringLiteral("original:/pictures/receipt.png"),
                                    QStringLiteral("corrected:/pictures/receipt.png")}));
        panel.setAcceptsImages(false);
        QVERIFY(panel.image().isEmpty());
        seen.clear();
        panel.ask(QStringLiteral("Hello"));
        QVERIFY(finished.wait(10000));
        QCOMPARE(seen, (QStringList{QStringLiteral("original:"), QStringLiteral("corrected:")}));
    }

    void devicesAreListedInTheBackground()
    {
        BudgetPage page;
        page.refreshDevices();
        QTRY_VERIFY(page.deviceTree()->topLevelItemCount() >= 1);
        QVERIFY(page.deviceTree()->topLevelItem(0)->text(0).contains(QLatin1String("CPU")));
    }
};

QTEST_MAIN(TestBackground)
#include "test_ui_background.moc"
