#pragma once

#include <QString>

class QApplication;

namespace emloc::ui {

// Organization and application names (QSettings keys), the window icon and the embedded icons.
// Call once, right after constructing the QApplication.
void initializeApplication(QApplication &app);

// Installs Qt's own and EMLoC Studio's translations for `language` ("en", "zh_TW"; empty or
// "system": the system locale). Returns the language actually used.
QString installTranslations(QApplication &app, const QString &language);

// Languages with a translation, as (code, name in that language).
QList<QPair<QString, QString>> availableLanguages();

// Fusion with a light palette and a subtle stylesheet: the same look on every desktop.
void applyStyle(QApplication &app);

} // namespace emloc::ui
