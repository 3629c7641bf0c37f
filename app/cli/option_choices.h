#pragma once
// The checks of options whose values are names, from core's tables (the same ones core's readers parse
// with), so a flag accepts every spelling the engine does and lists the same names. Header-only: the
// launcher links nothing of core.

#include "emloc/api/dtype_names.h"
#include "emloc/api/run_choices.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace emloc::cli {

// A --dtype-like option: "auto" where it is listed, and each listed type by any of its names (fp32,
// float32, F32, ...).
inline CLI::Validator floatTypeChoice(const std::vector<std::string> &accepted)
{
    std::string shown;
    for (const std::string &name : accepted)
        shown += (shown.empty() ? "" : "|") + name;
    const auto check = [accepted, shown](std::string &value) -> std::string {
        const auto listed = [&](const std::string &name) {
            return std::find(accepted.begin(), accepted.end(), name) != accepted.end();
        };
        if (value == "auto")
            return listed("auto") ? std::string() : "auto is not accepted here; use one of {" + shown + "}";
        const auto type = core::floatTypeFromName(value);
        const bool ok = type && std::any_of(accepted.begin(), accepted.end(), [&](const std::string &name) {
                            return name != "auto" && core::floatTypeFromName(name) == type;
                        });
        return ok ? std::string() : "'" + value + "' is not one of {" + shown + "}";
    };
    return CLI::Validator(check, "{" + shown + "}");
}

// An option naming one of a table's choices (or another spelling of one); `extra` is a further accepted
// name that the table does not hold ("auto" for the chat template).
template <class Value, std::size_t N>
CLI::Validator namedChoice(const std::array<core::NamedChoice<Value>, N> &choices,
                           const std::string &extra = "")
{
    std::string shown = extra;
    for (const core::NamedChoice<Value> &choice : choices)
        shown += (shown.empty() ? "" : "|") + std::string(choice.name);
    const auto check = [choices, extra, shown](std::string &value) -> std::string {
        if ((!extra.empty() && value == extra) || core::choiceFromName(choices, value))
            return {};
        return "'" + value + "' is not one of {" + shown + "}";
    };
    return CLI::Validator(check, "{" + shown + "}");
}

} // namespace emloc::cli
