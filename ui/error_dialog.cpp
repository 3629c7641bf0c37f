#include "error_dialog.h"

#include <QApplication>
#include <QMessageBox>

namespace emloc::ui {

namespace {
void showMessage(QWidget *parent, QMessageBox::Icon icon, const QString &what, const QString &whatToDo,
                 const QString &details)
{
    QMessageBox box(icon, QApplication::applicationName(), what, QMessageBox::Ok, parent);
    box.setObjectName(QStringLiteral("errorDialog"));
    box.setInformativeText(whatToDo);
    if (!details.isEmpty())
        box.setDetailedText(details);
    box.setTextInteractionFlags(Qt::TextSelectableByMouse);
    box.exec();
}
} // namespace

void showError(QWidget *parent, const QString &what, const QString &whatToDo, const QString &details)
{
    showMessage(parent, QMessageBox::Critical, what, whatToDo, details);
}

void showWarning(QWidget *parent, const QString &what, const QString &whatToDo)
{
    showMessage(parent, QMessageBox::Warning, what, whatToDo, {});
}

} // namespace emloc::ui
