// Python semantics of template values: str(), repr(), ==, truthiness and json.dumps.
#include "jinja_internal.h"

#include "emloc/text/jinja.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace emloc::core::jinja {

const Value *ValueDict::find(const std::string &key) const
{
    for (const auto &item : items)
        if (item.first == key)
            return &item.second;
    return nullptr;
}

Value *ValueDict::find(const std::string &key)
{
    for (auto &item : items)
        if (item.first == key)
            return &item.second;
    return nullptr;
}

void ValueDict::set(const std::string &key, Value value)
{
    if (Value *existing = find(key))
        *existing = std::move(value);
    else
        items.emplace_back(key, std::move(value));
}

Value Value::undefined(std::string name)
{
    Value v;
    v.text = std::move(name);
    return v;
}

Value Value::none()
{
    Value v;
    v.type = Type::None;
    return v;
}

Value Value::fromBool(bool b)
{
    Value v;
    v.type = Type::Bool;
    v.boolean = b;
    return v;
}

Value Value::fromInt(int64_t i)
{
    Value v;
    v.type = Type::Int;
    v.integer = i;
    return v;
}

Value Value::fromFloat(double f)
{
    Value v;
    v.type = Type::Float;
    v.real = f;
    return v;
}

Value Value::fromString(std::string s)
{
    Value v;
    v.type = Type::String;
    v.text = std::move(s);
    return v;
}

Value Value::newList(ValueList items)
{
    Value v;
    v.type = Type::List;
    v.list = std::make_shared<ValueList>(std::move(items));
    return v;
}

Value Value::newDict()
{
    Value v;
    v.type = Type::Dict;
    v.dict = std::make_shared<ValueDict>();
    return v;
}

Value Value::fromJson(const nlohmann::json &json)
{
    switch (json.type()) {
    case nlohmann::json::value_t::null:
        return none();
    case nlohmann::json::value_t::boolean:
        return fromBool(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
        return fromInt(json.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
        return fromInt(static_cast<int64_t>(json.get<uint64_t>()));
    case nlohmann::json::value_t::number_float:
        return fromFloat(json.get<double>());
    case nlohmann::json::value_t::string:
        return fromString(json.get<std::string>());
    case nlohmann::json::value_t::array: {
        ValueList items;
        items.reserve(json.size());
        for (const auto &item : json)
            items.push_back(fromJson(item));
        return newList(std::move(items));
    }
    case nlohmann::json::value_t::object: {
        Value v = newDict();
        for (auto it = json.begin(); it != json.end(); ++it)
            v.dict->items.emplace_back(it.key(), fromJson(it.value()));
        return v;
    }
    default:
        return undefined();
    }
}

bool Value::truthy() const
{
    switch (type) {
    case Type::Undefined:
    case Type::None:
        return false;
    case Type::Bool:
        return boolean;
    case Type::Int:
        return integer != 0;
    case Type::Float:
        return real != 0.0;
    case Type::String:
        return !text.empty();
    case Type::List:
        return !list->empty();
    case Type::Dict:
        return isNamespace || !dict->items.empty();
    }
    return false;
}

double Value::asDouble() const
{
    switch (type) {
    case Type::Bool:
        return boolean ? 1.0 : 0.0;
    case Type::Int:
        return static_cast<double>(integer);
    case Type::Float:
        return real;
    default:
        return 0.0;
    }
}

std::string typeName(const Value &value)
{
    switch (value.type) {
    case Value::Type::Undefined:
        return "Undefined";
    case Value::Type::None:
        return "NoneType";
    case Value::Type::Bool:
        return "bool";
    case Value::Type::Int:
        return "int";
    case Value::Type::Float:
        return "float";
    case Value::Type::String:
        return "str";
    case Value::Type::List:
        return "list";
    case Value::Type::Dict:
        return value.isNamespace ? "Namespace" : "dict";
    }
    return "object";
}

std::string formatFloat(double v)
{
    if (std::isnan(v))
        return "nan";
    if (std::isinf(v))
        return v > 0 ? "inf" : "-inf";
    if (v == 0.0)
        return std::signbit(v) ? "-0.0" : "0.0";
    // Shortest round-trip digits, laid out as Python's repr does: positional for 1e-4 <= |v| < 1e16.
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::scientific);
    std::string sci(buffer, result.ptr);
    bool negative = sci[0] == '-';
    if (negative)
        sci.erase(0, 1);
    size_t ePos = sci.find('e');
    int exponent = std::stoi(sci.substr(ePos + 1));
    std::string digits = sci.substr(0, ePos);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    std::string out;
    if (exponent >= -4 && exponent < 16) {
        if (exponent < 0) {
            out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
        } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
            out = digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<size_t>(exponent) + 1) + "." +
                  digits.substr(static_cast<size_t>(exponent) + 1);
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1)
            out += "." + digits.substr(1);
        char exp[16];
        std::snprintf(exp, sizeof(exp), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        out += exp;
    }
    return negative ? "-" + out : out;
}

namespace {
std::string reprString(const std::string &s)
{
    bool hasSingle = s.find('\'') != std::string::npos;
    bool hasDouble = s.find('"') != std::string::npos;
    char quote = hasSingle && !hasDouble ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                char hex[8];
                std::snprintf(hex, sizeof(hex), "\\u%04x", c);
                out += hex;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

void appendJson(std::string &out, const Value &value, int indent, int depth, const std::string &itemSep,
                const std::string &keySep, bool sortKeys)
{
    auto newline = [&](int level) {
        out += '\n';
        out.append(static_cast<size_t>(indent * level), ' ');
    };
    switch (value.type) {
    case Value::Type::Undefined:
        throw JinjaRenderError("tojson: Object of type Undefined is not JSON serializable");
    case Value::Type::None:
        out += "null";
        return;
    case Value::Type::Bool:
        out += value.boolean ? "true" : "false";
        return;
    case Value::Type::Int:
        out += std::to_string(value.integer);
        return;
    case Value::Type::Float:
        out += std::isnan(value.real)   ? "NaN"
               : std::isinf(value.real) ? (value.real > 0 ? "Infinity" : "-Infinity")
                                        : formatFloat(value.real);
        return;
    case Value::Type::String:
        out += jsonString(value.text);
        return;
    case Value::Type::List: {
        if (value.list->empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (size_t i = 0; i < value.list->size(); ++i) {
            if (i > 0)
                out += itemSep;
            if (indent >= 0)
                newline(depth + 1);
            appendJson(out, (*value.list)[i], indent, depth + 1, itemSep, keySep, sortKeys);
        }
        if (indent >= 0)
            newline(depth);
        out += ']';
        return;
    }
    case Value::Type::Dict: {
        if (value.dict->items.empty()) {
            out += "{}";
            return;
        }
        std::vector<const std::pair<std::string, Value> *> items;
        for (const auto &item : value.dict->items)
            items.push_back(&item);
        if (sortKeys)
            std::stable_sort(items.begin(), items.end(),
                             [](auto *x, auto *y) { return x->first < y->first; });
        out += '{';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i > 0)
                out += itemSep;
            if (indent >= 0)
                newline(depth + 1);
            out += jsonString(items[i]->first);
            out += keySep;
            appendJson(out, items[i]->second, indent, depth + 1, itemSep, keySep, sortKeys);
        }
        if (indent >= 0)
            newline(depth);
        out += '}';
        return;
    }
    }
}
} // namespace

std::string toJson(const Value &value, int indent, const std::string &itemSeparator,
                   const std::string &keySeparator, bool sortKeys)
{
    std::string out;
    appendJson(out, value, indent, 0, itemSeparator, keySeparator, sortKeys);
    return out;
}

std::string toRepr(const Value &value)
{
    switch (value.type) {
    case Value::Type::String:
        return reprString(value.text);
    case Value::Type::List: {
        std::string out = value.isTuple ? "(" : "[";
        for (size_t i = 0; i < value.list->size(); ++i)
            out += (i ? ", " : "") + toRepr((*value.list)[i]);
        if (value.isTuple)
            return out + (value.list->size() == 1 ? ",)" : ")");
        return out + "]";
    }
    case Value::Type::Dict: {
        if (value.isNamespace)
            return "<Namespace>";
        std::string out = "{";
        bool first = true;
        for (const auto &item : value.dict->items) {
            out += (first ? "" : ", ") + reprString(item.first) + ": " + toRepr(item.second);
            first = false;
        }
        return out + "}";
    }
    default:
        return toStr(value);
    }
}

std::string toStr(const Value &value)
{
    switch (value.type) {
    case Value::Type::Undefined:
        return "";
    case Value::Type::None:
        return "None";
    case Value::Type::Bool:
        return value.boolean ? "True" : "False";
    case Value::Type::Int:
        return std::to_string(value.integer);
    case Value::Type::Float:
        return formatFloat(value.real);
    case Value::Type::String:
        return value.text;
    default:
        return toRepr(value);
    }
}

bool valuesEqual(const Value &a, const Value &b)
{
    if (a.isNumber() && b.isNumber()) {
        if (a.type != Value::Type::Float && b.type != Value::Type::Float)
            return (a.type == Value::Type::Bool ? a.boolean : a.integer) ==
                   (b.type == Value::Type::Bool ? b.boolean : b.integer);
        return a.asDouble() == b.asDouble();
    }
    if (a.type != b.type)
        return false;
    switch (a.type) {
    case Value::Type::Undefined:
    case Value::Type::None:
        return true;
    case Value::Type::String:
        return a.text == b.text;
    case Value::Type::List:
        if (a.list->size() != b.list->size())
            return false;
        for (size_t i = 0; i < a.list->size(); ++i)
            if (!valuesEqual((*a.list)[i], (*b.list)[i]))
                return false;
        return true;
    case Value::Type::Dict:
        if (a.isNamespace || b.isNamespace)
            return a.dict == b.dict;
        if (a.dict->items.size() != b.dict->items.size())
            return false;
        for (const auto &item : a.dict->items) {
            const Value *other = b.dict->find(item.first);
            if (!other || !valuesEqual(item.second, *other))
                return false;
        }
        return true;
    default:
        return false;
    }
}

size_t codepointCount(const std::string &text)
{
    size_t count = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80)
            ++count;
    return count;
}

std::vector<size_t> codepointStarts(const std::string &text)
{
    std::vector<size_t> starts;
    for (size_t i = 0; i < text.size(); ++i)
        if (i == 0 || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
            starts.push_back(i);
    starts.push_back(text.size());
    return starts;
}

std::string_view codepointAt(const std::string &text, const std::vector<size_t> &starts, size_t index)
{
    return std::string_view(text).substr(starts[index], starts[index + 1] - starts[index]);
}

std::vector<std::string> splitCodepoints(const std::string &text)
{
    const std::vector<size_t> starts = codepointStarts(text);
    std::vector<std::string> out;
    out.reserve(starts.size() - 1);
    for (size_t i = 0; i + 1 < starts.size(); ++i)
        out.emplace_back(codepointAt(text, starts, i));
    return out;
}

} // namespace emloc::core::jinja
