#pragma once
// A Studio project and the engine's run configuration, both ways. The project's fields and its advanced
// settings become one configuration document that core's reader checks, so the Studio and `emloc run`
// share one schema, its defaults and its errors; a configuration file (the demo's) opens as a project.

#include "project/project.h"

#include "emloc/stages/pipeline.h"

#include <optional>
#include <string>
#include <vector>

namespace emloc::gui {

// The run a project stands for. Throws core::Error naming the setting at fault: a value out of range, an
// unknown key among the advanced settings, or one there that a page already sets. With RunPaths::Optional
// the model, data and output may still be unchosen (the Budget page's preview).
core::PipelineConfig pipelineConfig(const ui::Project &project,
                                    core::RunPaths paths = core::RunPaths::Required);

// The project that runs `config`: the pages' fields, and every other setting that differs from core's
// default in the advanced settings. pipelineConfig(projectFor(c)) runs what c runs.
ui::Project projectFor(const core::PipelineConfig &config);

// File > Export Run Configuration…: pipelineConfig(project) as a configuration file that `emloc run`
// reads back to the same run (written atomically; core::Error names the setting or the file at fault).
void writeRunConfiguration(const ui::Project &project, const QString &path);

// The dotted keys of a configuration document's values ("train.lora.rank"); lists are values.
std::vector<std::string> settingKeys(const nlohmann::json &document);

// The bundled demo, from the demo's run configuration that `scripts/demo.sh` and `emloc run` use, so the
// Studio shows that run's results. Installed: share/emloc-studio/demo/demo-run.json, writing into the
// user's data folder; in a build tree (`sourceTree`): resources/demo/demo-run.json, writing into
// runs/demo as the script does. Empty when the model (fetched by setup.sh) or the data is missing.
std::optional<ui::Project> demoProject(const QString &sourceTree);

} // namespace emloc::gui
