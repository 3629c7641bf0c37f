#include "project/project_json.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonArray>

#include <cmath>

namespace emloc::ui {

QString relativePath(const QString &path, const QString &baseDir)
{
    if (path.isEmpty() || baseDir.isEmpty())
        return path;
    const QString relative = QDir(baseDir).relativeFilePath(path);
    // Paths outside the project folder stay absolute: "../../x" breaks when the project moves.
    return relative.startsWith(QLatin1String("..")) ? QDir::cleanPath(path) : relative;
}

QString absolutePath(const QString &path, const QString &baseDir)
{
    if (path.isEmpty() || baseDir.isEmpty() || QDir::isAbsolutePath(path))
        return path;
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(path));
}

FieldReader FieldReader::child(const char *key, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (!value.isUndefined() && !value.isObject())
        fail(key, QCoreApplication::translate("emloc::ui::Project", "an object"), error);
    return FieldReader(value.toObject(), m_prefix + QLatin1String(key) + QLatin1Char('.'));
}

void FieldReader::read(const char *key, QString &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    if (!value.isString())
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "a text"), error);
    target = value.toString();
}

void FieldReader::read(const char *key, double &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    if (!value.isDouble())
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "a number"), error);
    target = value.toDouble();
}

void FieldReader::read(const char *key, int &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    if (!value.isDouble() || value.toDouble() != std::floor(value.toDouble()))
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "a whole number"), error);
    target = value.toInt();
}

void FieldReader::read(const char *key, bool &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    if (!value.isBool())
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "true or false"), error);
    target = value.toBool();
}

void FieldReader::read(const char *key, QJsonObject &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    if (!value.isObject())
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "an object"), error);
    target = value.toObject();
}

void FieldReader::read(const char *key, QStringList &target, QString *error)
{
    const QJsonValue value = m_object.value(QLatin1String(key));
    if (value.isUndefined())
        return;
    QStringList list;
    for (const QJsonValue &item : value.toArray()) {
        if (!item.isString())
            return fail(key, QCoreApplication::translate("emloc::ui::Project", "a list of texts"), error);
        list << item.toString();
    }
    if (!value.isArray())
        return fail(key, QCoreApplication::translate("emloc::ui::Project", "a list of texts"), error);
    target = list;
}

void FieldReader::fail(const char *key, const QString &expected, QString *error)
{
    if (error && error->isEmpty())
        *error = QCoreApplication::translate("emloc::ui::Project", "The field \"%1\" must be %2.")
                     .arg(m_prefix + QLatin1String(key), expected);
}

} // namespace emloc::ui
