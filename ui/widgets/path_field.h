#pragma once

#include <QWidget>

class QLineEdit;
class QPushButton;

namespace emloc::ui {

// A path typed or chosen with a dialog. It only reports changes; the page validates the path and
// says what is wrong with it, because only the page knows what it needs.
class PathField : public QWidget
{
    Q_OBJECT

public:
    enum class Kind {
        ExistingFile,         // a file to read
        ExistingFileOrFolder, // a model: a folder, or a single GGUF file
        Folder,               // a folder to read from or write into (may not exist yet)
    };

    PathField(Kind kind, const QString &dialogTitle, const QString &fileFilter, QWidget *parent = nullptr);

    QString path() const;
    void setPath(const QString &path); // does not emit pathChanged
    void setPlaceholderText(const QString &text);
    QLineEdit *lineEdit() const { return m_edit; }

Q_SIGNALS:
    // When editing finished or a dialog chose a path.
    void pathChanged(const QString &path);

private:
    void browseFile();
    void browseFolder();
    QString startDirectory() const;
    void choose(const QString &path);

    Kind m_kind;
    QString m_dialogTitle;
    QString m_fileFilter;
    QLineEdit *m_edit = nullptr;
    QString m_lastEmitted;
};

} // namespace emloc::ui
