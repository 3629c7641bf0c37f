#pragma once
// Reading the JSON the CLI and the reference scripts print or write. Fields are read leniently, as the
// suites always have: a missing key, or a value of another type, reads as null, false, 0, "" or [] and
// fails the check that reads it, naming the value it got, rather than throwing out of the test case.

#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace emloc::test {

// The JSON object in `text` (a command's --json report); an empty one when it holds none.
inline nlohmann::json jsonObjectOf(const std::string &text)
{
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    return document.is_object() ? document : nlohmann::json::object();
}

// A JSON file the product or a reference script wrote; fails the test case, naming it, when it cannot
// be read or parsed.
inline nlohmann::json readJsonFile(const std::string &path)
{
    nlohmann::json document = nlohmann::json::parse(readFile(path), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded())
        fail(path + " is not valid JSON", __FILE__, __LINE__);
    return document;
}

inline const nlohmann::json &member(const nlohmann::json &object, const std::string &key)
{
    static const nlohmann::json missing;
    if (!object.is_object())
        return missing;
    const auto found = object.find(key);
    return found == object.end() ? missing : *found;
}

inline bool flagOf(const nlohmann::json &value)
{
    return value.is_boolean() && value.get<bool>();
}

inline double numberOf(const nlohmann::json &value)
{
    return value.is_number() ? value.get<double>() : 0.0;
}

// A whole number (0 for anything else, 2.5 included).
inline int64_t integerOf(const nlohmann::json &value)
{
    if (value.is_number_integer())
        return value.get<int64_t>();
    const double number = numberOf(value);
    return std::trunc(number) == number ? int64_t(number) : 0;
}

inline std::string stringOf(const nlohmann::json &value)
{
    return value.is_string() ? value.get<std::string>() : std::string();
}

inline const nlohmann::json &arrayOf(const nlohmann::json &value)
{
    static const nlohmann::json empty = nlohmann::json::array();
    return value.is_array() ? value : empty;
}

} // namespace emloc::test
