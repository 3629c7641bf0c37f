#pragma once

#include <QString>

class QWidget;

namespace emloc::ui {

// A modal error: `what` says what happened, `whatToDo` how to go on; `details` (technical text,
// e.g. an engine message) is behind the "Show Details" button.
void showError(QWidget *parent, const QString &what, const QString &whatToDo, const QString &details = {});
void showWarning(QWidget *parent, const QString &what, const QString &whatToDo);

} // namespace emloc::ui
