#pragma once

#include "emloc/api/error.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace emloc::core {

// A template uses a Jinja feature outside the supported subset (macros, includes, call blocks, ...).
// Thrown while parsing, so a caller can fall back to a built-in renderer before any record is rendered.
class JinjaUnsupported : public Error
{
public:
    using Error::Error;
};

// The template failed while rendering: raise_exception(...) was called, or an operation had operands
// of the wrong type. The message carries the template line.
class JinjaRenderError : public Error
{
public:
    using Error::Error;
};

namespace jinja {
struct Node;
}

// The subset of Jinja2 that chat templates use, rendered exactly as transformers renders them:
// trim_blocks and lstrip_blocks on, loop controls, the `generation` tag (transparent), and the globals
// raise_exception, namespace, range, dict and strftime_now, and transformers' own `tojson` filter.
// Values follow Python semantics (str(), truthiness, ==, +, %, slicing). Immutable after construction;
// render() is thread-safe.
class JinjaTemplate
{
public:
    // Throws JinjaUnsupported for features outside the subset and Error for syntax errors (with line).
    explicit JinjaTemplate(const std::string &source);
    ~JinjaTemplate();
    JinjaTemplate(const JinjaTemplate &) = default;
    JinjaTemplate &operator=(const JinjaTemplate &) = default;

    // `variables` is the template context (objects, arrays, strings, numbers, booleans, null).
    std::string render(const nlohmann::json &variables) const;

private:
    std::shared_ptr<const jinja::Node> m_root;
};

} // namespace emloc::core
