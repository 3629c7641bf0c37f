#pragma once
// The check of a --dtype-like option, from core's one table of float type names: "auto" where it is
// accepted, and each accepted type by any of its names (fp32, float32, F32, ...), as core's readers
// accept it. Header-only: the launcher links core's torch-free interface only.

#include "emloc/api/dtype_names.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace emloc::cli {

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

} // namespace emloc::cli
