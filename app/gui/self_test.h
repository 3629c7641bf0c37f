#pragma once

class QApplication;

namespace emloc::gui {

// `emloc-studio --self-test`: what a package check (and a user who wonders whether an install works) needs
// to know without clicking: the icons render (Qt's SVG plugin is there), the translations load, the demo
// is installed, the engine reads the demo model and plans its memory, and the main window opens on the
// demo and paints. Prints one line per check; returns the process exit code (0: all passed).
int runSelfTest(QApplication &app);

} // namespace emloc::gui
