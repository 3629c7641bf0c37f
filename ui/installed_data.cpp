#include "installed_data.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace emloc::ui {

QString installedDataDirectory()
{
    const QDir share(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/emloc-studio"));
    // The demo folder marks an install: a build tree has no share/ beside its binaries.
    if (!QFileInfo(share.filePath(QStringLiteral("demo"))).isDir())
        return {};
    return share.canonicalPath();
}

} // namespace emloc::ui
