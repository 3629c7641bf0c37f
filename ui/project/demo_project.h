#pragma once

#include "project/project.h"

#include <optional>

namespace emloc::ui {

// The bundled demo (the README's first command): SmolLM2-135M-Instruct and the bookings dataset with the
// demo configuration's settings. Installed: the GGUF and data under share/emloc-studio/demo, outputs in
// the user's data folder. In a build tree (`sourceTree`): the model setup.sh converts into .cache/models
// and resources/demo, outputs in runs/demo-studio. Empty when the files are not there.
std::optional<Project> demoProject(const QString &sourceTree);

} // namespace emloc::ui
