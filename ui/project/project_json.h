#pragma once
// Reading and writing a project's JSON: typed fields whose errors name the field as it appears in the
// file, and paths stored relative to the project file.

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace emloc::ui {

// `path` relative to `baseDir` when it lies beside or below it (a project folder moves as a whole);
// otherwise, or with an empty baseDir, as it is.
QString relativePath(const QString &path, const QString &baseDir);
// A path read from a project file, made absolute against the file's folder.
QString absolutePath(const QString &path, const QString &baseDir);

// Reads typed fields of one JSON object and remembers the first error ("The field \"train.lora.rank\"
// must be a whole number."). An absent field leaves its target as it is.
class FieldReader
{
public:
    FieldReader(const QJsonObject &object, QString prefix) : m_object(object), m_prefix(std::move(prefix)) {}

    FieldReader child(const char *key, QString *error);
    void read(const char *key, QString &target, QString *error);
    void read(const char *key, double &target, QString *error);
    void read(const char *key, int &target, QString *error);
    void read(const char *key, bool &target, QString *error);
    void read(const char *key, QJsonObject &target, QString *error);
    void read(const char *key, QStringList &target, QString *error);

private:
    void fail(const char *key, const QString &expected, QString *error);

    QJsonObject m_object;
    QString m_prefix;
};

} // namespace emloc::ui
