#pragma once
// The catalog's config.json files (resources/catalog/*.json), compiled in by core/CMakeLists.txt from
// catalog_data.cpp.in, so the planner answers for popular models before any download, wherever the
// program is installed.

#include <cstddef>

namespace emloc::core::detail {

struct CatalogText
{
    const char *name; // the file's name without .json: "llama-3.1-8b"
    const char *json; // its text
};

extern const CatalogText kCatalogTexts[];
extern const std::size_t kCatalogTextCount;

} // namespace emloc::core::detail
