#pragma once
// Private to the vision area: reading checkpoint tensor names one prefix at a time.
#include <string>

namespace emloc::core {

// When `name` starts with `prefix`, drops it and returns true; else leaves `name` alone.
inline bool consumePrefix(std::string &name, const std::string &prefix)
{
    if (name.rfind(prefix, 0) != 0)
        return false;
    name = name.substr(prefix.size());
    return true;
}

} // namespace emloc::core
