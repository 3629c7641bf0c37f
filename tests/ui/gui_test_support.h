#pragma once

// Helpers shared by the GUI suites: a clean settings store and answering modal dialogs.

#include "application_setup.h"

#include <QApplication>
#include <QDialog>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QMessageBox>
#include <QPair>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTimer>
#include <QtEndian>

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

// A safetensors file with the given tensors (F32, zero data), as Hugging Face writes them: enough for the
// Model page's inspector. Returns false when the file cannot be written.
inline bool writeZeroSafetensors(const QString &path, const QList<QPair<QString, QList<qint64>>> &tensors)
{
    QJsonObject header;
    qint64 offset = 0;
    for (const auto &[name, shape] : tensors) {
        qint64 count = 1;
        QJsonArray dims;
        for (qint64 d : shape) {
            count *= d;
            dims.append(d);
        }
        header.insert(name, QJsonObject{{"dtype", "F32"},
                                        {"shape", dims},
                                        {"data_offsets", QJsonArray{offset, offset + 4 * count}}});
        offset += 4 * count;
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8 != 0)
        json.append(' ');
    char length[8];
    qToLittleEndian<quint64>(static_cast<quint64>(json.size()), length);
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(length, 8) == 8 && file.write(json) == json.size() &&
           file.write(QByteArray(static_cast<int>(offset), '\0')) == offset;
}

} // namespace emloc::ui::testing
