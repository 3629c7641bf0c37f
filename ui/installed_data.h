#pragma once

#include <QString>

namespace emloc::ui {

// An installed EMLoC Studio keeps its data in <prefix>/share/emloc-studio beside <prefix>/bin, wherever
// the prefix is (the package installs into /usr; a copy of the tree elsewhere works the same). Empty when
// the running binary is not installed (a build tree).
QString installedDataDirectory();

} // namespace emloc::ui
