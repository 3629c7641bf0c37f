#include "application_setup.h"

#include "installed_data.h"

#include "emloc/api/version.h"

#include <QApplication>
#include <QFont>
#include <QIcon>
#include <QLibraryInfo>
#include <QLocale>
#include <QPalette>
#include <QStyleFactory>
#include <QTranslator>

// Q_INIT_RESOURCE must be called outside any namespace.
static void initEmbeddedResources()
{
    Q_INIT_RESOURCE(resources);
}

namespace emloc::ui {

void initializeApplication(QApplication &app)
{
    initEmbeddedResources();
    QApplication::setOrganizationName(QStringLiteral("EMLoC"));
    QApplication::setOrganizationDomain(QStringLiteral("emloc.org"));
    QApplication::setApplicationName(QString::fromLatin1(kProductName));
    QApplication::setApplicationVersion(QString::fromLatin1(kVersion));
    QApplication::setDesktopFileName(QStringLiteral("org.emloc.Studio"));
    app.setWindowIcon(QIcon(QStringLiteral(":/icons/emloc-studio.svg")));
}

QList<QPair<QString, QString>> availableLanguages()
{
    return {{QStringLiteral("en"), QStringLiteral("English")},
            {QStringLiteral("zh_TW"), QStringLiteral("繁體中文")}};
}

QString installTranslations(QApplication &app, const QString &language)
{
    QLocale locale =
        (language.isEmpty() || language == QLatin1String("system")) ? QLocale::system() : QLocale(language);
    QString code = QStringLiteral("en");
    for (const auto &[candidate, name] : availableLanguages()) {
        Q_UNUSED(name)
        const QLocale candidateLocale(candidate);
        // zh_HK and zh_MO read Traditional Chinese too; zh_CN does not.
        if (candidateLocale.language() == locale.language() &&
            (candidateLocale.language() != QLocale::Chinese ||
             locale.script() == QLocale::TraditionalChineseScript))
            code = candidate;
    }
    QLocale::setDefault(QLocale(code));

    auto *qtTranslator = new QTranslator(&app);
    if (qtTranslator->load(QLocale(code), QStringLiteral("qtbase"), QStringLiteral("_"),
                           QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(qtTranslator);
    else
        delete qtTranslator;

    // An installed translation (share/emloc-studio/translations) wins over the embedded one, so a
    // translator can try an updated .qm without rebuilding.
    auto *translator = new QTranslator(&app);
    const QString file = QStringLiteral("emloc_%1.qm").arg(code);
    const QString installed = installedDataDirectory();
    if ((!installed.isEmpty() && translator->load(installed + QStringLiteral("/translations/") + file)) ||
        translator->load(QStringLiteral(":/i18n/") + file)) {
        QApplication::installTranslator(translator);
    } else {
        delete translator;
        code = QStringLiteral("en"); // the sources' language
        QLocale::setDefault(QLocale(code));
    }
    return code;
}

void applyStyle(QApplication &app)
{
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

    QPalette palette;
    palette.setColor(QPalette::Window, QColor(0xf4, 0xf6, 0xf9));
    palette.setColor(QPalette::WindowText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::Base, Qt::white);
    palette.setColor(QPalette::AlternateBase, QColor(0xf8, 0xfa, 0xfc));
    palette.setColor(QPalette::Text, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::Button, QColor(0xfb, 0xfc, 0xfd));
    palette.setColor(QPalette::ButtonText, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::Highlight, QColor(0x4f, 0x46, 0xe5));
    palette.setColor(QPalette::HighlightedText, Qt::white);
    palette.setColor(QPalette::ToolTipBase, QColor(0x1f, 0x29, 0x37));
    palette.setColor(QPalette::ToolTipText, Qt::white);
    palette.setColor(QPalette::PlaceholderText, QColor(0x94, 0xa3, 0xb8));
    palette.setColor(QPalette::Link, QColor(0x4f, 0x46, 0xe5));
    palette.setColor(QPalette::Disabled, QPalette::Text, QColor(0x94, 0xa3, 0xb8));
    palette.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x94, 0xa3, 0xb8));
    palette.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x94, 0xa3, 0xb8));
    app.setPalette(palette);

    // Sizes in pt and em-like paddings so the look scales with the font and the screen's DPI.
    app.setStyleSheet(QStringLiteral(R"(
QWidget#sidebar { background: #1e293b; }
QLabel#sidebarTitle { color: #f8fafc; font-size: 12pt; font-weight: 600; }
QLabel#sidebarVersion { color: #94a3b8; }
QListWidget#navigation { background: transparent; border: none; color: #cbd5e1; outline: none; }
QListWidget#navigation::item { padding: 7px 10px; margin: 1px 8px; border-radius: 6px; }
QListWidget#navigation::item:hover { background: #334155; }
QListWidget#navigation::item:selected { background: #4f46e5; color: white; }
QLabel#pageTitle { font-size: 16pt; font-weight: 600; color: #0f172a; }
QLabel#pageSubtitle { color: #64748b; }
QGroupBox { background: white; border: 1px solid #e2e8f0; border-radius: 8px; margin-top: 1.4em;
            padding: 10px 10px 8px 10px; font-weight: 600; }
QGroupBox::title { subcontrol-origin: margin; subcontrol-position: top left; left: 10px; padding: 0 4px;
                   color: #334155; }
QGroupBox * { font-weight: normal; }
QLabel#hint { color: #64748b; }
QLabel#statValue { font-size: 13pt; font-weight: 600; color: #0f172a; }
QLabel#statCaption { color: #64748b; }
emloc--ui--StatCard { background: white; border: 1px solid #e2e8f0; border-radius: 8px; }
QFrame#emptyState { background: white; border: 1px dashed #cbd5e1; border-radius: 8px; }
QLabel#emptyTitle { font-size: 13pt; font-weight: 600; color: #334155; }
QPushButton { padding: 5px 14px; border: 1px solid #cbd5e1; border-radius: 6px; background: #ffffff; }
QPushButton:hover { background: #f1f5f9; }
QPushButton:pressed { background: #e2e8f0; }
QPushButton:disabled { color: #94a3b8; background: #f8fafc; border-color: #e2e8f0; }
QPushButton:focus { border-color: #6366f1; }
QPushButton#primary { background: #4f46e5; border-color: #4338ca; color: white; font-weight: 600; }
QPushButton#primary:hover { background: #4338ca; }
QPushButton#primary:disabled { background: #c7d2fe; border-color: #c7d2fe; color: #eef2ff; }
QLineEdit, QAbstractSpinBox { padding: 3px 6px; border: 1px solid #cbd5e1; border-radius: 5px;
    background: white; min-height: 1.5em; }
QLineEdit:focus, QAbstractSpinBox:focus { border-color: #6366f1; }
QLineEdit:disabled, QAbstractSpinBox:disabled { background: #f8fafc; color: #94a3b8; border-color: #e2e8f0; }
QAbstractSpinBox { padding-right: 20px; }
QAbstractSpinBox QLineEdit { border: none; padding: 0; background: transparent; min-height: 0; }
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button { subcontrol-origin: padding; width: 18px;
    border-left: 1px solid #e2e8f0; background: #f8fafc; }
QAbstractSpinBox::up-button { subcontrol-position: top right; border-top-right-radius: 4px; }
QAbstractSpinBox::down-button { subcontrol-position: bottom right; border-bottom-right-radius: 4px;
    border-top: 1px solid #e2e8f0; }
QAbstractSpinBox::up-button:hover, QAbstractSpinBox::down-button:hover { background: #e2e8f0; }
QAbstractSpinBox::up-arrow { image: url(:/icons/chevron-up.svg); width: 9px; height: 9px; }
QAbstractSpinBox::down-arrow { image: url(:/icons/chevron-down.svg); width: 9px; height: 9px; }
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off { image: url(:/icons/chevron-up-disabled.svg); }
QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {
    image: url(:/icons/chevron-down-disabled.svg); }
QProgressBar { border: 1px solid #e2e8f0; border-radius: 5px; background: #f1f5f9; text-align: center;
               min-height: 1.3em; }
QProgressBar::chunk { background: #6366f1; border-radius: 4px; }
QPlainTextEdit#log { background: #0f172a; color: #e2e8f0; border: none; border-radius: 8px; padding: 6px; }
QPlainTextEdit#log QScrollBar { background: #0f172a; width: 10px; height: 10px; }
QPlainTextEdit#log QScrollBar::handle { background: #334155; border-radius: 4px; min-height: 24px; min-width: 24px; }
QPlainTextEdit#log QScrollBar::add-line, QPlainTextEdit#log QScrollBar::sub-line { width: 0; height: 0; }
QPlainTextEdit#log QScrollBar::add-page, QPlainTextEdit#log QScrollBar::sub-page { background: none; }
QTreeWidget, QTableWidget { border: 1px solid #e2e8f0; border-radius: 6px; background: white;
                            alternate-background-color: #f8fafc; }
QTreeView::item { padding: 3px 2px; }
QHeaderView::section { background: #f1f5f9; border: none; border-bottom: 1px solid #e2e8f0; padding: 4px 6px;
                       color: #475569; font-weight: 600; }
QStatusBar { background: #eef2f7; border-top: 1px solid #e2e8f0; }
QStatusBar QLabel { padding: 0 8px; color: #475569; }
QScrollArea#pageScroll { background: transparent; border: none; }
QWidget#pageContent { background: transparent; }
QToolTip { padding: 4px; border: none; }
)"));
}

} // namespace emloc::ui
