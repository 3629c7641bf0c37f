#include "widgets/path_field.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QIcon>
#include <QLineEdit>
#include <QPushButton>

namespace emloc::ui {

PathField::PathField(Kind kind, const QString &dialogTitle, const QString &fileFilter, QWidget *parent)
    : QWidget(parent), m_kind(kind), m_dialogTitle(dialogTitle), m_fileFilter(fileFilter)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    m_edit = new QLineEdit(this);
    m_edit->setClearButtonEnabled(true);
    layout->addWidget(m_edit, 1);

    if (kind == Kind::ExistingFile || kind == Kind::ExistingFileOrFolder) {
        auto *fileButton = new QPushButton(QIcon(QStringLiteral(":/icons/file-browse.svg")),
                                           kind == Kind::ExistingFile ? tr("Browse…") : tr("File…"), this);
        fileButton->setToolTip(kind == Kind::ExistingFile ? tr("Choose a file.")
                                                          : tr("Choose a single-file model (GGUF)."));
        connect(fileButton, &QPushButton::clicked, this, &PathField::browseFile);
        layout->addWidget(fileButton);
    }
    if (kind == Kind::Folder || kind == Kind::ExistingFileOrFolder) {
        auto *folderButton = new QPushButton(QIcon(QStringLiteral(":/icons/folder-browse.svg")),
                                             kind == Kind::Folder ? tr("Browse…") : tr("Folder…"), this);
        folderButton->setToolTip(kind == Kind::Folder
                                     ? tr("Choose a folder.")
                                     : tr("Choose a Hugging Face model folder (config.json + safetensors)."));
        connect(folderButton, &QPushButton::clicked, this, &PathField::browseFolder);
        layout->addWidget(folderButton);
    }
    connect(m_edit, &QLineEdit::editingFinished, this, [this] { choose(m_edit->text().trimmed()); });
    // The clear button does not finish editing; a cleared field is still a change.
    connect(m_edit, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (text.isEmpty())
            choose(QString());
    });
    setFocusProxy(m_edit);
}

QString PathField::path() const
{
    return QDir::fromNativeSeparators(m_edit->text().trimmed());
}

void PathField::setPath(const QString &path)
{
    const QString native = QDir::toNativeSeparators(path);
    m_lastEmitted = native;
    const QSignalBlocker blocker(m_edit);
    m_edit->setText(native);
}

void PathField::setPlaceholderText(const QString &text)
{
    m_edit->setPlaceholderText(text);
}

QString PathField::startDirectory() const
{
    QFileInfo info(path());
    if (path().isEmpty())
        return QDir::homePath();
    return info.isDir() ? info.absoluteFilePath() : info.absolutePath();
}

void PathField::browseFile()
{
    const QString chosen = QFileDialog::getOpenFileName(this, m_dialogTitle, startDirectory(), m_fileFilter);
    if (!chosen.isEmpty())
        choose(chosen);
}

void PathField::browseFolder()
{
    const QString chosen = QFileDialog::getExistingDirectory(this, m_dialogTitle, startDirectory());
    if (!chosen.isEmpty())
        choose(chosen);
}

void PathField::choose(const QString &path)
{
    const QString native = QDir::toNativeSeparators(path);
    if (m_edit->text() != native) {
        const QSignalBlocker blocker(m_edit);
        m_edit->setText(native);
    }
    if (native == m_lastEmitted)
        return;
    m_lastEmitted = native;
    Q_EMIT pathChanged(QDir::fromNativeSeparators(native));
}

} // namespace emloc::ui
