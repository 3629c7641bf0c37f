#pragma once

// Helpers shared by the GUI suites: a clean settings store and answering modal dialogs.

#include "application_setup.h"

#include <QApplication>
#include <QDialog>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTimer>

#include <functional>
#include <memory>

namespace emloc::ui::testing {

// Settings go to a test location and start empty; the embedded resources are registered.
inline void initializeGuiTest()
{
    QStandardPaths::setTestModeEnabled(true);
    emloc::ui::initializeApplication(*qobject_cast<QApplication *>(QCoreApplication::instance()));
    QSettings().clear();
}

// Watches for the next modal dialog whose objectName is `name` and hands it to `handle` once it is
// shown (the handler must close it). Returns a flag that tells whether it was seen.
inline std::shared_ptr<bool> handleNextModal(const QString &name, std::function<void(QDialog *)> handle)
{
    auto seen = std::make_shared<bool>(false);
    auto *timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, [timer, name, handle, seen] {
        auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget());
        if (!dialog || dialog->objectName() != name || !dialog->isVisible())
            return;
        *seen = true;
        timer->stop();
        timer->deleteLater();
        handle(dialog);
    });
    timer->start();
    return seen;
}

// Clicks `button` in the next QMessageBox named `name`; its text and informative text go to `text`.
inline std::shared_ptr<bool> answerNextMessageBox(const QString &name, QMessageBox::StandardButton button,
                                                  std::shared_ptr<QString> text = {})
{
    return handleNextModal(name, [button, text](QDialog *dialog) {
        auto *box = qobject_cast<QMessageBox *>(dialog);
        if (text)
            *text = box->text() + QLatin1Char('\n') + box->informativeText();
        box->button(button)->click();
    });
}

} // namespace emloc::ui::testing
