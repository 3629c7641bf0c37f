// Evaluation of the Jinja syntax tree with Python semantics, and the public JinjaTemplate.
#include "jinja_internal.h"

#include "emloc/api/parse_number.h"
#include "emloc/text/jinja.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <unordered_map>

namespace emloc::core {

namespace jinja {
namespace {

using Type = Value::Type;

// Bounds no real chat template comes near; a hostile one fails instead of exhausting memory.
constexpr size_t kMaxTextBytes = size_t(8) << 20; // ~2M tokens, beyond any context
constexpr int64_t kMaxListItems = int64_t(1) << 20;
// Work a render may do: one unit per expression and output, kLoopStepWork per loop step (each builds the
// `loop` object), one per 64 bytes of text an expression yields and per item of a list it builds (copying
// them is the cost). Real templates spend 50-90 units per message (tests/dataset/test_jinja.cpp renders
// 2,000 messages); a loop that would run for minutes stops with an error within a second.
constexpr int64_t kMaxRenderWork = int64_t(2) << 20;
constexpr int64_t kLoopStepWork = 8;

[[noreturn]] void fail(int line, const std::string &what)
{
    throw JinjaRenderError("chat template line " + std::to_string(line) + ": " + what);
}

// Raised while rendering for a construct outside the subset, so callers can tell it from raise_exception.
[[noreturn]] void unsupported(int line, const std::string &what)
{
    throw JinjaUnsupported("chat template line " + std::to_string(line) + ": " + what +
                           " is not supported by the built-in template engine");
}

bool isSpaceChar(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string strip(const std::string &s, const std::string *chars, bool left, bool right)
{
    auto drop = [&](char c) { return chars ? chars->find(c) != std::string::npos : isSpaceChar(c); };
    size_t begin = 0, end = s.size();
    while (left && begin < end && drop(s[begin]))
        ++begin;
    while (right && end > begin && drop(s[end - 1]))
        --end;
    return s.substr(begin, end - begin);
}

std::string toLower(std::string s)
{
    for (char &c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string toUpper(std::string s)
{
    for (char &c : s)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return s;
}

std::string titleCase(const std::string &s)
{
    std::string out = s;
    bool startOfWord = true;
    for (char &c : out) {
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter)
            c = startOfWord ? toUpper(std::string(1, c))[0] : toLower(std::string(1, c))[0];
        startOfWord = !letter;
    }
    return out;
}

std::string replaceAll(const std::string &s, const std::string &from, const std::string &to, int64_t count)
{
    if (from.empty()) {
        std::string out;
        auto chars = splitCodepoints(s);
        int64_t done = 0;
        for (const auto &c : chars) {
            if (count < 0 || done < count) {
                out += to;
                ++done;
            }
            out += c;
        }
        if (count < 0 || done < count)
            out += to;
        return out;
    }
    std::string out;
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t at = s.find(from, pos);
        if (at == std::string::npos)
            break;
        out += s.substr(pos, at - pos) + to;
        pos = at + from.size();
        ++done;
    }
    return out + s.substr(pos);
}

int64_t normalizeIndex(int64_t index, int64_t size)
{
    return index < 0 ? index + size : index;
}

// Python slice indices for a sequence of `size` items.
std::vector<int64_t> sliceIndices(int64_t size, const Value *start, const Value *stop, const Value *step,
                                  int line)
{
    int64_t stepValue = step && step->type != Type::None ? step->integer : 1;
    if (stepValue == 0)
        fail(line, "slice step cannot be zero");
    auto bound = [&](const Value *v, int64_t fallback) {
        if (!v || v->type == Type::None)
            return fallback;
        if (v->type != Type::Int)
            fail(line, "slice indices must be integers");
        int64_t i = v->integer;
        if (i < 0)
            i += size;
        if (stepValue > 0)
            return std::clamp<int64_t>(i, 0, size);
        return std::clamp<int64_t>(i, -1, size - 1);
    };
    int64_t begin = bound(start, stepValue > 0 ? 0 : size - 1);
    int64_t end = bound(stop, stepValue > 0 ? size : -1);
    std::vector<int64_t> out;
    for (int64_t i = begin; stepValue > 0 ? i < end : i > end; i += stepValue)
        out.push_back(i);
    return out;
}

ValueList iterate(const Value &value, int line)
{
    switch (value.type) {
    case Type::Undefined:
        return {};
    case Type::List:
        return *value.list;
    case Type::Dict: {
        ValueList keys;
        for (const auto &item : value.dict->items)
            keys.push_back(Value::fromString(item.first));
        return keys;
    }
    case Type::String: {
        ValueList chars;
        for (auto &c : splitCodepoints(value.text))
            chars.push_back(Value::fromString(std::move(c)));
        return chars;
    }
    default:
        fail(line, "'" + typeName(value) + "' object is not iterable");
    }
}

int64_t lengthOf(const Value &value, int line)
{
    switch (value.type) {
    case Type::Undefined:
        return 0;
    case Type::String:
        return static_cast<int64_t>(codepointCount(value.text));
    case Type::List:
        return static_cast<int64_t>(value.list->size());
    case Type::Dict:
        return static_cast<int64_t>(value.dict->items.size());
    default:
        fail(line, "object of type '" + typeName(value) + "' has no len()");
    }
}

int compareValues(const Value &a, const Value &b, const std::string &op, int line)
{
    if (a.isNumber() && b.isNumber()) {
        double x = a.asDouble(), y = b.asDouble();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.type == Type::String && b.type == Type::String)
        return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
    if (a.type == Type::List && b.type == Type::List) {
        size_t n = std::min(a.list->size(), b.list->size());
        for (size_t i = 0; i < n; ++i) {
            if (!valuesEqual((*a.list)[i], (*b.list)[i]))
                return compareValues((*a.list)[i], (*b.list)[i], op, line);
        }
        return a.list->size() < b.list->size() ? -1 : a.list->size() > b.list->size() ? 1 : 0;
    }
    fail(line,
         "'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
}

bool contains(const Value &container, const Value &item, int line)
{
    switch (container.type) {
    case Type::String:
        if (item.type != Type::String)
            fail(line, "'in <string>' requires string as left operand, not " + typeName(item));
        return container.text.find(item.text) != std::string::npos;
    case Type::List:
        for (const auto &element : *container.list)
            if (valuesEqual(element, item))
                return true;
        return false;
    case Type::Dict:
        return item.type == Type::String && container.dict->find(item.text) != nullptr;
    case Type::Undefined:
        return false;
    default:
        fail(line, "argument of type '" + typeName(container) + "' is not iterable");
    }
}

Value getAttribute(const Value &object, const std::string &name, int line)
{
    if (object.isUndefined())
        fail(line, "'" + (object.text.empty() ? std::string("value") : object.text) +
                       "' is undefined (reading ." + name + ")");
    if (object.type == Type::Dict) {
        if (const Value *found = object.dict->find(name))
            return *found;
    }
    return Value::undefined(name);
}

Value getItem(const Value &object, const Value &key, int line)
{
    if (object.isUndefined())
        fail(line, "'" + (object.text.empty() ? std::string("value") : object.text) +
                       "' is undefined (reading [" + toRepr(key) + "])");
    if (object.type == Type::Dict) {
        if (key.type == Type::String) {
            if (const Value *found = object.dict->find(key.text))
                return *found;
            return Value::undefined(key.text);
        }
        return Value::undefined();
    }
    if ((object.type == Type::List || object.type == Type::String) &&
        (key.type == Type::Int || key.type == Type::Bool)) {
        int64_t index = key.type == Type::Bool ? key.boolean : key.integer;
        if (object.type == Type::List) {
            int64_t size = static_cast<int64_t>(object.list->size());
            index = normalizeIndex(index, size);
            if (index < 0 || index >= size)
                return Value::undefined();
            return (*object.list)[static_cast<size_t>(index)];
        }
        const std::vector<size_t> starts = codepointStarts(object.text);
        const int64_t count = static_cast<int64_t>(starts.size()) - 1;
        index = normalizeIndex(index, count);
        if (index < 0 || index >= count)
            return Value::undefined();
        return Value::fromString(std::string(codepointAt(object.text, starts, static_cast<size_t>(index))));
    }
    return Value::undefined();
}

Value arithmetic(const std::string &op, const Value &a, const Value &b, int line)
{
    auto typeError = [&]() -> Value {
        fail(line,
             "unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    };
    if (a.isUndefined() || b.isUndefined()) {
        const Value &missing = a.isUndefined() ? a : b;
        fail(line, "'" + (missing.text.empty() ? std::string("value") : missing.text) + "' is undefined");
    }
    if (op == "+") {
        if (a.type == Type::String && b.type == Type::String)
            return Value::fromString(a.text + b.text);
        if (a.type == Type::List && b.type == Type::List) {
            ValueList joined = *a.list;
            joined.insert(joined.end(), b.list->begin(), b.list->end());
            return Value::newList(std::move(joined));
        }
    }
    if (op == "*" && ((a.type == Type::String && b.type == Type::Int) ||
                      (a.type == Type::Int && b.type == Type::String))) {
        const Value &s = a.type == Type::String ? a : b;
        int64_t n = a.type == Type::Int ? a.integer : b.integer;
        if (n <= 0 || s.text.empty())
            return Value::fromString("");
        if (n > int64_t(kMaxTextBytes / s.text.size()))
            fail(line,
                 "'string' * " + std::to_string(n) + " would be larger than a chat template may render");
        std::string out;
        out.reserve(s.text.size() * size_t(n));
        for (int64_t i = 0; i < n; ++i)
            out += s.text;
        return Value::fromString(out);
    }
    if (!a.isNumber() || !b.isNumber())
        return typeError();
    bool integers = a.type != Type::Float && b.type != Type::Float;
    int64_t x = a.type == Type::Bool ? a.boolean : a.integer;
    int64_t y = b.type == Type::Bool ? b.boolean : b.integer;
    double fx = a.asDouble(), fy = b.asDouble();
    // Python's integers do not overflow; ours are 64-bit, so a result beyond them is an error, never UB.
    const auto checked = [line](bool overflowed, int64_t value) {
        if (overflowed)
            fail(line, "integer overflow: the result does not fit in 64 bits");
        return Value::fromInt(value);
    };
    int64_t result = 0;
    if (op == "+") {
        if (!integers)
            return Value::fromFloat(fx + fy);
        const bool overflowed = __builtin_add_overflow(x, y, &result);
        return checked(overflowed, result);
    }
    if (op == "-") {
        if (!integers)
            return Value::fromFloat(fx - fy);
        const bool overflowed = __builtin_sub_overflow(x, y, &result);
        return checked(overflowed, result);
    }
    if (op == "*") {
        if (!integers)
            return Value::fromFloat(fx * fy);
        const bool overflowed = __builtin_mul_overflow(x, y, &result);
        return checked(overflowed, result);
    }
    if (op == "/") {
        if (fy == 0)
            fail(line, "division by zero");
        return Value::fromFloat(fx / fy);
    }
    if (op == "//" || op == "%") {
        if (integers) {
            if (y == 0)
                fail(line, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1)
                return op == "//" ? checked(true, 0) : Value::fromInt(0);
            int64_t q = x / y, r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) { // Python floors
                --q;
                r += y;
            }
            return Value::fromInt(op == "//" ? q : r);
        }
        if (fy == 0)
            fail(line, "float division or modulo by zero");
        double q = std::floor(fx / fy);
        return Value::fromFloat(op == "//" ? q : fx - q * fy);
    }
    if (op == "**") {
        if (integers && y >= 0) { // by squaring: a huge exponent must not loop for ages
            int64_t power = 1, base = x;
            bool overflowed = false;
            for (int64_t e = y; e > 0 && !overflowed; e >>= 1) {
                if (e & 1)
                    overflowed = __builtin_mul_overflow(power, base, &power);
                if (e > 1 && !overflowed)
                    overflowed = __builtin_mul_overflow(base, base, &base);
            }
            return checked(overflowed, power);
        }
        return Value::fromFloat(std::pow(fx, fy));
    }
    return typeError();
}

// Keyword-or-positional argument lookup for filters and methods.
struct Arguments
{
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;

    const Value *get(size_t index, const char *name) const
    {
        if (index < positional.size())
            return &positional[index];
        for (const auto &item : named)
            if (item.first == name)
                return &item.second;
        return nullptr;
    }
};

class Renderer
{
public:
    explicit Renderer(const nlohmann::json &variables)
    {
        m_frames.emplace_back();
        if (variables.is_object())
            for (auto it = variables.begin(); it != variables.end(); ++it)
                m_frames.back()[it.key()] = Value::fromJson(it.value());
    }

    enum class Flow { Normal, Break, Continue };

    Flow renderNodes(const NodeList &nodes, std::string &out)
    {
        for (const auto &node : nodes) {
            Flow flow = renderNode(*node, out);
            if (flow != Flow::Normal)
                return flow;
        }
        return Flow::Normal;
    }

private:
    Flow renderNode(const Node &node, std::string &out)
    {
        spend(1, node.line);
        const Flow flow = renderNodeKind(node, out);
        if (out.size() > kMaxTextBytes)
            fail(node.line, "the rendered text grew past " + std::to_string(kMaxTextBytes >> 20) +
                                " MiB, more than a chat template may render");
        return flow;
    }

    // Counts work against kMaxRenderWork, so that no template, however it loops, renders for minutes.
    void spend(int64_t units, int line)
    {
        m_work += units;
        if (m_work > kMaxRenderWork)
            fail(line, "the template did more than " + std::to_string(kMaxRenderWork) +
                           " steps of work without finishing; a chat template never needs that many");
    }

    Flow renderNodeKind(const Node &node, std::string &out)
    {
        switch (node.kind) {
        case Node::Kind::Body:
            return renderNodes(node.body, out);
        case Node::Kind::Text:
            out += node.text;
            return Flow::Normal;
        case Node::Kind::Output:
            out += toStr(eval(*node.expr));
            return Flow::Normal;
        case Node::Kind::If:
            for (const auto &branch : node.branches)
                if (eval(*branch.first).truthy())
                    return renderNodes(branch.second, out);
            return renderNodes(node.elseBody, out);
        case Node::Kind::For:
            return renderFor(node, out);
        case Node::Kind::Set: {
            Value value = eval(*node.expr);
            if (!node.attribute.empty()) {
                Value target = lookup(node.targets[0]);
                if (target.type != Type::Dict || !target.isNamespace)
                    fail(node.line,
                         "cannot assign attribute on non-namespace object '" + node.targets[0] + "'");
                target.dict->set(node.attribute, std::move(value));
            } else {
                assign(node.targets, value, node.line);
            }
            return Flow::Normal;
        }
        case Node::Kind::SetBlock: {
            std::string captured;
            renderNodes(node.body, captured);
            m_frames.back()[node.targets[0]] = Value::fromString(captured);
            return Flow::Normal;
        }
        case Node::Kind::Break:
            return Flow::Break;
        case Node::Kind::Continue:
            return Flow::Continue;
        }
        return Flow::Normal;
    }

    void assign(const std::vector<std::string> &targets, const Value &value, int line)
    {
        if (targets.size() == 1) {
            m_frames.back()[targets[0]] = value;
            return;
        }
        ValueList items = iterate(value, line);
        if (items.size() != targets.size())
            fail(line, "cannot unpack " + std::to_string(items.size()) + " values into " +
                           std::to_string(targets.size()) + " names");
        for (size_t i = 0; i < targets.size(); ++i)
            m_frames.back()[targets[i]] = items[i];
    }

    Flow renderFor(const Node &node, std::string &out)
    {
        ValueList items = iterate(eval(*node.expr), node.line);
        if (node.loopFilter) {
            ValueList kept;
            for (const auto &item : items) {
                m_frames.emplace_back();
                assign(node.targets, item, node.line);
                bool keep = eval(*node.loopFilter).truthy();
                m_frames.pop_back();
                if (keep)
                    kept.push_back(item);
            }
            items = std::move(kept);
        }
        if (items.empty())
            return renderNodes(node.elseBody, out);
        int64_t length = static_cast<int64_t>(items.size());
        for (int64_t i = 0; i < length; ++i) {
            spend(kLoopStepWork, node.line);
            Value loop = Value::newDict();
            loop.dict->set("index", Value::fromInt(i + 1));
            loop.dict->set("index0", Value::fromInt(i));
            loop.dict->set("revindex", Value::fromInt(length - i));
            loop.dict->set("revindex0", Value::fromInt(length - i - 1));
            loop.dict->set("first", Value::fromBool(i == 0));
            loop.dict->set("last", Value::fromBool(i == length - 1));
            loop.dict->set("length", Value::fromInt(length));
            loop.dict->set("depth", Value::fromInt(1));
            loop.dict->set("depth0", Value::fromInt(0));
            loop.dict->set("previtem",
                           i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("previtem"));
            loop.dict->set("nextitem",
                           i + 1 < length ? items[static_cast<size_t>(i + 1)] : Value::undefined("nextitem"));
            m_frames.emplace_back();
            m_frames.back()["loop"] = loop;
            assign(node.targets, items[static_cast<size_t>(i)], node.line);
            Flow flow = renderNodes(node.body, out);
            m_frames.pop_back();
            if (flow == Flow::Break)
                break;
        }
        return Flow::Normal;
    }

    Value lookup(const std::string &name) const
    {
        for (auto frame = m_frames.rbegin(); frame != m_frames.rend(); ++frame) {
            auto found = frame->find(name);
            if (found != frame->end())
                return found->second;
        }
        return Value::undefined(name);
    }

    Arguments evalArguments(const Expr &call)
    {
        Arguments args;
        for (const auto &arg : call.args)
            args.positional.push_back(eval(*arg));
        for (const auto &kw : call.kwargs)
            args.named.emplace_back(kw.first, eval(*kw.second));
        return args;
    }

    Value eval(const Expr &e)
    {
        spend(1, e.line);
        Value value = evalKind(e);
        if (value.type == Type::String) {
            spend(int64_t(value.text.size() / 64), e.line);
            if (value.text.size() > kMaxTextBytes)
                fail(e.line, "a string grew past " + std::to_string(kMaxTextBytes >> 20) +
                                 " MiB, more than a chat template may build");
        } else if (value.type == Type::List && e.kind != Expr::Kind::Name && e.kind != Expr::Kind::Attr &&
                   e.kind != Expr::Kind::Item) {
            // A list is shared, not copied, when a name, attribute or item yields it: only new ones cost.
            spend(int64_t(value.list->size()), e.line);
            if (int64_t(value.list->size()) > kMaxListItems)
                fail(e.line, "a list grew past " + std::to_string(kMaxListItems) +
                                 " items, more than a chat template may build");
        }
        return value;
    }

    Value evalKind(const Expr &e)
    {
        switch (e.kind) {
        case Expr::Kind::Literal:
            return e.value;
        case Expr::Kind::Name:
            return lookup(e.name);
        case Expr::Kind::ListLit: {
            ValueList items;
            for (const auto &arg : e.args)
                items.push_back(eval(*arg));
            Value list = Value::newList(std::move(items));
            list.isTuple = e.name == "tuple";
            return list;
        }
        case Expr::Kind::DictLit: {
            Value dict = Value::newDict();
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                Value key = eval(*e.args[i]);
                if (key.type != Type::String)
                    fail(e.line, "only string keys are supported in dict literals");
                dict.dict->set(key.text, eval(*e.args[i + 1]));
            }
            return dict;
        }
        case Expr::Kind::Attr:
            return getAttribute(eval(*e.a), e.name, e.line);
        case Expr::Kind::Item:
            return getItem(eval(*e.a), eval(*e.b), e.line);
        case Expr::Kind::Slice:
            return evalSlice(e);
        case Expr::Kind::Call:
            return evalCall(e);
        case Expr::Kind::Filter: {
            Value input = eval(*e.a);
            return applyFilter(e.name, input, evalArguments(e), e.line);
        }
        case Expr::Kind::Test: {
            if (e.name == "defined" || e.name == "undefined") {
                bool defined = !eval(*e.a).isUndefined();
                return Value::fromBool((e.name == "defined") == defined ? !e.negated : e.negated);
            }
            Value input = eval(*e.a);
            bool result = applyTest(e.name, input, evalArguments(e).positional, e.line);
            return Value::fromBool(e.negated ? !result : result);
        }
        case Expr::Kind::Not:
            return Value::fromBool(!eval(*e.a).truthy());
        case Expr::Kind::Neg:
        case Expr::Kind::Pos: {
            Value v = eval(*e.a);
            if (!v.isNumber())
                fail(e.line, "bad operand type for unary " +
                                 std::string(e.kind == Expr::Kind::Neg ? "-" : "+") + ": '" + typeName(v) +
                                 "'");
            if (e.kind == Expr::Kind::Pos)
                return v.type == Type::Bool ? Value::fromInt(v.boolean) : v;
            if (v.type == Type::Int && v.integer == INT64_MIN)
                fail(e.line,
                     "integer overflow: -(" + std::to_string(v.integer) + ") does not fit in 64 bits");
            return v.type == Type::Float ? Value::fromFloat(-v.real)
                                         : Value::fromInt(-(v.type == Type::Bool ? v.boolean : v.integer));
        }
        case Expr::Kind::And: {
            Value left = eval(*e.a);
            return left.truthy() ? eval(*e.b) : left;
        }
        case Expr::Kind::Or: {
            Value left = eval(*e.a);
            return left.truthy() ? left : eval(*e.b);
        }
        case Expr::Kind::Cond:
            if (eval(*e.a).truthy())
                return eval(*e.b);
            return e.c ? eval(*e.c) : Value::undefined();
        case Expr::Kind::Binary:
            return evalBinary(e);
        }
        return Value::undefined();
    }

    Value evalBinary(const Expr &e)
    {
        Value a = eval(*e.a);
        Value b = eval(*e.b);
        const std::string &op = e.name;
        if (op == "==")
            return Value::fromBool(valuesEqual(a, b));
        if (op == "!=")
            return Value::fromBool(!valuesEqual(a, b));
        if (op == "<")
            return Value::fromBool(compareValues(a, b, op, e.line) < 0);
        if (op == ">")
            return Value::fromBool(compareValues(a, b, op, e.line) > 0);
        if (op == "<=")
            return Value::fromBool(compareValues(a, b, op, e.line) <= 0);
        if (op == ">=")
            return Value::fromBool(compareValues(a, b, op, e.line) >= 0);
        if (op == "in")
            return Value::fromBool(contains(b, a, e.line));
        if (op == "not in")
            return Value::fromBool(!contains(b, a, e.line));
        if (op == "~")
            return Value::fromString(toStr(a) + toStr(b));
        return arithmetic(op, a, b, e.line);
    }

    Value evalSlice(const Expr &e)
    {
        Value object = eval(*e.a);
        Value start = e.b ? eval(*e.b) : Value::none();
        Value stop = e.c ? eval(*e.c) : Value::none();
        Value step = e.d ? eval(*e.d) : Value::none();
        if (object.type == Type::List) {
            ValueList out;
            for (int64_t i :
                 sliceIndices(static_cast<int64_t>(object.list->size()), &start, &stop, &step, e.line))
                out.push_back((*object.list)[static_cast<size_t>(i)]);
            return Value::newList(std::move(out));
        }
        if (object.type == Type::String) {
            spend(int64_t(object.text.size() / 8), e.line); // a pass over every character, then a copy
            const std::vector<size_t> starts = codepointStarts(object.text);
            std::string out;
            for (int64_t i :
                 sliceIndices(static_cast<int64_t>(starts.size()) - 1, &start, &stop, &step, e.line))
                out += codepointAt(object.text, starts, static_cast<size_t>(i));
            return Value::fromString(out);
        }
        if (object.isUndefined())
            fail(e.line, "'" + (object.text.empty() ? std::string("value") : object.text) + "' is undefined");
        fail(e.line, "'" + typeName(object) + "' object is not subscriptable");
    }

    Value evalCall(const Expr &e)
    {
        if (e.a->kind == Expr::Kind::Attr) {
            Value object = eval(*e.a->a);
            if (object.isUndefined())
                fail(e.line, "'" + (object.text.empty() ? std::string("value") : object.text) +
                                 "' is undefined (calling ." + e.a->name + "())");
            if (object.type == Type::String || (object.type == Type::Dict && !object.isNamespace) ||
                object.type == Type::List)
                return callMethod(object, e.a->name, evalArguments(e), e.line);
            if (object.type == Type::Dict && object.isNamespace)
                fail(e.line, "namespace attribute '" + e.a->name + "' is not callable");
        }
        if (e.a->kind == Expr::Kind::Name && lookup(e.a->name).isUndefined())
            return callGlobal(e.a->name, evalArguments(e), e.line);
        unsupported(e.line, "calling this object");
    }

    Value callGlobal(const std::string &name, const Arguments &args, int line)
    {
        if (name == "raise_exception") {
            std::string message = args.positional.empty() ? std::string() : toStr(args.positional[0]);
            throw JinjaRenderError(message);
        }
        if (name == "namespace" || name == "dict") {
            Value ns = Value::newDict();
            ns.isNamespace = name == "namespace";
            for (const auto &positional : args.positional) {
                if (positional.type != Type::Dict)
                    fail(line, name + "() takes keyword arguments or a dict");
                for (const auto &item : positional.dict->items)
                    ns.dict->set(item.first, item.second);
            }
            for (const auto &item : args.named)
                ns.dict->set(item.first, item.second);
            return ns;
        }
        if (name == "range") {
            std::vector<int64_t> bounds;
            for (const auto &arg : args.positional) {
                if (arg.type != Type::Int)
                    fail(line, "range() arguments must be integers");
                bounds.push_back(arg.integer);
            }
            int64_t start = 0, stop = 0, step = 1;
            if (bounds.size() == 1)
                stop = bounds[0];
            else if (bounds.size() >= 2) {
                start = bounds[0];
                stop = bounds[1];
                if (bounds.size() == 3)
                    step = bounds[2];
            }
            if (step == 0)
                fail(line, "range() arg 3 must not be zero");
            // Counted in 128 bits first: neither a huge list nor i += step past INT64_MAX.
            const __int128 span = step > 0 ? __int128(stop) - start : __int128(start) - stop;
            const __int128 stride = step > 0 ? __int128(step) : -__int128(step);
            const __int128 count = span <= 0 ? 0 : (span + stride - 1) / stride;
            if (count > kMaxListItems)
                fail(line, "range() of more than " + std::to_string(kMaxListItems) +
                               " numbers is more than a chat template needs");
            ValueList out;
            for (int64_t k = 0; k < int64_t(count); ++k)
                out.push_back(Value::fromInt(int64_t(__int128(start) + __int128(k) * step)));
            return Value::newList(std::move(out));
        }
        if (name == "strftime_now") {
            std::time_t now = std::time(nullptr);
            std::tm local{};
            localtime_r(&now, &local);
            char buffer[256];
            std::string format = args.positional.empty() ? std::string() : toStr(args.positional[0]);
            size_t n = std::strftime(buffer, sizeof(buffer), format.c_str(), &local);
            return Value::fromString(std::string(buffer, n));
        }
        fail(line, "'" + name + "' is undefined");
    }

    static std::string stringArg(const Arguments &args, size_t index, const char *name, int line,
                                 const std::string &fallback = {}, bool *present = nullptr)
    {
        const Value *v = args.get(index, name);
        if (present)
            *present = v && v->type != Type::None;
        if (!v || v->type == Type::None)
            return fallback;
        if (v->type != Type::String)
            fail(line, std::string("argument '") + name + "' must be a string, not " + typeName(*v));
        return v->text;
    }

    Value callMethod(const Value &object, const std::string &method, const Arguments &args, int line)
    {
        if (object.type == Type::String) {
            const std::string &s = object.text;
            if (method == "strip" || method == "lstrip" || method == "rstrip") {
                bool present = false;
                std::string chars = stringArg(args, 0, "chars", line, {}, &present);
                return Value::fromString(
                    strip(s, present ? &chars : nullptr, method != "rstrip", method != "lstrip"));
            }
            if (method == "upper")
                return Value::fromString(toUpper(s));
            if (method == "lower")
                return Value::fromString(toLower(s));
            if (method == "title")
                return Value::fromString(titleCase(s));
            if (method == "capitalize")
                return Value::fromString(s.empty() ? s : toUpper(s.substr(0, 1)) + toLower(s.substr(1)));
            if (method == "startswith" || method == "endswith") {
                const Value *prefix = args.get(0, "prefix");
                if (!prefix)
                    fail(line, method + "() takes at least 1 argument");
                ValueList candidates = prefix->type == Type::List ? *prefix->list : ValueList{*prefix};
                for (const auto &candidate : candidates) {
                    if (candidate.type != Type::String)
                        fail(line, method + "() argument must be str or a tuple of str");
                    const std::string &p = candidate.text;
                    bool match =
                        method == "startswith"
                            ? s.compare(0, p.size(), p) == 0
                            : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
                    if (match)
                        return Value::fromBool(true);
                }
                return Value::fromBool(false);
            }
            if (method == "replace") {
                const Value *count = args.get(2, "count");
                return Value::fromString(replaceAll(s, stringArg(args, 0, "old", line),
                                                    stringArg(args, 1, "new", line),
                                                    count && count->type == Type::Int ? count->integer : -1));
            }
            if (method == "split") {
                bool hasSep = false;
                std::string sep = stringArg(args, 0, "sep", line, {}, &hasSep);
                const Value *maxsplitValue = args.get(1, "maxsplit");
                int64_t maxsplit =
                    maxsplitValue && maxsplitValue->type == Type::Int ? maxsplitValue->integer : -1;
                ValueList parts;
                if (hasSep) {
                    if (sep.empty())
                        fail(line, "empty separator");
                    size_t pos = 0;
                    int64_t splits = 0;
                    while (maxsplit < 0 || splits < maxsplit) {
                        size_t at = s.find(sep, pos);
                        if (at == std::string::npos)
                            break;
                        parts.push_back(Value::fromString(s.substr(pos, at - pos)));
                        pos = at + sep.size();
                        ++splits;
                    }
                    parts.push_back(Value::fromString(s.substr(pos)));
                } else {
                    size_t pos = 0;
                    int64_t splits = 0;
                    while (true) {
                        while (pos < s.size() && isSpaceChar(s[pos]))
                            ++pos;
                        if (pos >= s.size())
                            break;
                        if (maxsplit >= 0 && splits >= maxsplit) {
                            parts.push_back(Value::fromString(strip(s.substr(pos), nullptr, false, true)));
                            break;
                        }
                        size_t end = pos;
                        while (end < s.size() && !isSpaceChar(s[end]))
                            ++end;
                        parts.push_back(Value::fromString(s.substr(pos, end - pos)));
                        pos = end;
                        ++splits;
                    }
                }
                return Value::newList(std::move(parts));
            }
            if (method == "find") {
                size_t at = s.find(stringArg(args, 0, "sub", line));
                return Value::fromInt(
                    at == std::string::npos ? -1 : static_cast<int64_t>(codepointCount(s.substr(0, at))));
            }
            if (method == "count") {
                std::string sub = stringArg(args, 0, "sub", line);
                int64_t n = 0;
                for (size_t at = s.find(sub); !sub.empty() && at != std::string::npos;
                     at = s.find(sub, at + sub.size()))
                    ++n;
                return Value::fromInt(sub.empty() ? static_cast<int64_t>(codepointCount(s)) + 1 : n);
            }
        } else if (object.type == Type::Dict) {
            if (method == "items" || method == "keys" || method == "values") {
                ValueList out;
                for (const auto &item : object.dict->items) {
                    if (method == "items") {
                        out.push_back(Value::newList({Value::fromString(item.first), item.second}));
                        out.back().isTuple = true;
                    } else
                        out.push_back(method == "keys" ? Value::fromString(item.first) : item.second);
                }
                return Value::newList(std::move(out));
            }
            if (method == "get") {
                std::string key = stringArg(args, 0, "key", line);
                if (const Value *found = object.dict->find(key))
                    return *found;
                const Value *fallback = args.get(1, "default");
                return fallback ? *fallback : Value::none();
            }
        }
        unsupported(line, "the method '" + method + "' of '" + typeName(object) + "'");
    }

    bool applyTest(const std::string &name, const Value &v, const std::vector<Value> &args, int line)
    {
        auto arg = [&](size_t i) -> const Value & {
            if (i >= args.size())
                fail(line, "test '" + name + "' needs an argument");
            return args[i];
        };
        if (name == "none")
            return v.type == Type::None;
        if (name == "boolean")
            return v.type == Type::Bool;
        if (name == "true")
            return v.type == Type::Bool && v.boolean;
        if (name == "false")
            return v.type == Type::Bool && !v.boolean;
        if (name == "integer")
            return v.type == Type::Int;
        if (name == "float")
            return v.type == Type::Float;
        if (name == "number")
            return v.isNumber();
        if (name == "string")
            return v.type == Type::String;
        if (name == "mapping")
            return v.type == Type::Dict && !v.isNamespace;
        if (name == "iterable")
            return v.type == Type::List || v.type == Type::String ||
                   (v.type == Type::Dict && !v.isNamespace) || v.isUndefined();
        if (name == "sequence")
            return v.type == Type::List || v.type == Type::String || (v.type == Type::Dict && !v.isNamespace);
        if (name == "callable")
            return false;
        if (name == "equalto" || name == "eq" || name == "==" || name == "sameas")
            return valuesEqual(v, arg(0));
        if (name == "ne" || name == "!=")
            return !valuesEqual(v, arg(0));
        if (name == "lt" || name == "lessthan")
            return compareValues(v, arg(0), "<", line) < 0;
        if (name == "le")
            return compareValues(v, arg(0), "<=", line) <= 0;
        if (name == "gt" || name == "greaterthan")
            return compareValues(v, arg(0), ">", line) > 0;
        if (name == "ge")
            return compareValues(v, arg(0), ">=", line) >= 0;
        if (name == "in")
            return contains(arg(0), v, line);
        if (name == "odd" || name == "even" || name == "divisibleby") {
            if (v.type != Type::Int)
                fail(line, "test '" + name + "' needs an integer");
            if (name == "divisibleby") {
                const Value &d = arg(0);
                if (d.type != Type::Int || d.integer == 0)
                    fail(line, "divisibleby needs a non-zero integer");
                return v.integer % d.integer == 0;
            }
            return (v.integer % 2 != 0) == (name == "odd");
        }
        if (name == "lower")
            return v.type == Type::String && toLower(v.text) == v.text;
        if (name == "upper")
            return v.type == Type::String && toUpper(v.text) == v.text;
        if (name == "defined")
            return !v.isUndefined();
        if (name == "undefined")
            return v.isUndefined();
        unsupported(line, "the test '" + name + "'");
    }

    // selectattr/rejectattr/select/reject: the item (or its attribute) passes the named test, or is truthy.
    ValueList selectItems(const Value &input, const Arguments &args, bool byAttribute, bool keep, int line)
    {
        ValueList out;
        size_t testIndex = byAttribute ? 1 : 0;
        std::string attribute = byAttribute ? stringArg(args, 0, "attribute", line) : std::string();
        std::string test;
        if (args.positional.size() > testIndex) {
            if (args.positional[testIndex].type != Type::String)
                fail(line, "the test name must be a string");
            test = args.positional[testIndex].text;
        }
        std::vector<Value> testArgs(args.positional.begin() + std::min(args.positional.size(), testIndex + 1),
                                    args.positional.end());
        for (const auto &item : iterate(input, line)) {
            Value subject = byAttribute ? attributePath(item, attribute, line) : item;
            bool passed = test.empty() ? subject.truthy() : applyTest(test, subject, testArgs, line);
            if (passed == keep)
                out.push_back(item);
        }
        return out;
    }

    Value attributePath(const Value &item, const std::string &path, int line)
    {
        Value current = item;
        size_t pos = 0;
        while (true) {
            size_t dot = path.find('.', pos);
            std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
            if (current.isUndefined())
                return current;
            const auto index = parseInt64(part);
            current = index ? getItem(current, Value::fromInt(*index), line)
                            : getItem(current, Value::fromString(part), line);
            if (dot == std::string::npos)
                return current;
            pos = dot + 1;
        }
    }

    Value applyFilter(const std::string &name, const Value &v, const Arguments &args, int line)
    {
        if (name == "trim") {
            bool present = false;
            std::string chars = stringArg(args, 0, "chars", line, {}, &present);
            return Value::fromString(strip(toStr(v), present ? &chars : nullptr, true, true));
        }
        if (name == "length" || name == "count")
            return Value::fromInt(lengthOf(v, line));
        if (name == "first" || name == "last") {
            ValueList items = iterate(v, line);
            if (items.empty())
                return Value::undefined();
            return name == "first" ? items.front() : items.back();
        }
        if (name == "list")
            return Value::newList(iterate(v, line));
        if (name == "string")
            return Value::fromString(toStr(v));
        if (name == "safe" || name == "e" || name == "escape") {
            if (name == "safe")
                return v;
            std::string out;
            for (char c : toStr(v)) {
                switch (c) {
                case '&':
                    out += "&amp;";
                    break;
                case '<':
                    out += "&lt;";
                    break;
                case '>':
                    out += "&gt;";
                    break;
                case '"':
                    out += "&#34;";
                    break;
                case '\'':
                    out += "&#39;";
                    break;
                default:
                    out += c;
                }
            }
            return Value::fromString(out);
        }
        if (name == "upper")
            return Value::fromString(toUpper(toStr(v)));
        if (name == "lower")
            return Value::fromString(toLower(toStr(v)));
        if (name == "capitalize") {
            std::string s = toStr(v);
            return Value::fromString(s.empty() ? s : toUpper(s.substr(0, 1)) + toLower(s.substr(1)));
        }
        if (name == "title")
            return Value::fromString(titleCase(toStr(v)));
        if (name == "replace") {
            const Value *count = args.get(2, "count");
            return Value::fromString(replaceAll(toStr(v), stringArg(args, 0, "old", line),
                                                stringArg(args, 1, "new", line),
                                                count && count->type == Type::Int ? count->integer : -1));
        }
        if (name == "default" || name == "d") {
            const Value *fallback = args.get(0, "default_value");
            const Value *boolean = args.get(1, "boolean");
            bool useFallback = v.isUndefined() || (boolean && boolean->truthy() && !v.truthy());
            return useFallback ? (fallback ? *fallback : Value::fromString("")) : v;
        }
        if (name == "join") {
            std::string sep = stringArg(args, 0, "d", line);
            bool hasAttribute = false;
            std::string attribute = stringArg(args, 1, "attribute", line, {}, &hasAttribute);
            std::string out;
            bool first = true;
            for (const auto &item : iterate(v, line)) {
                out += (first ? "" : sep) + toStr(hasAttribute ? attributePath(item, attribute, line) : item);
                first = false;
            }
            return Value::fromString(out);
        }
        if (name == "tojson") {
            const Value *indent = args.get(1, "indent");
            const Value *separators = args.get(2, "separators");
            const Value *sortKeys = args.get(3, "sort_keys");
            int indentValue = indent && indent->type == Type::Int ? static_cast<int>(indent->integer) : -1;
            if (indent && indent->type == Type::Int && (indent->integer < 0 || indent->integer > 64))
                fail(line, "tojson(indent=" + std::to_string(indent->integer) + "): use 0 to 64 spaces");
            std::string itemSep = indentValue >= 0 ? "," : ", ", keySep = ": ";
            if (separators && separators->type == Type::List && separators->list->size() == 2) {
                itemSep = toStr((*separators->list)[0]);
                keySep = toStr((*separators->list)[1]);
            }
            try {
                return Value::fromString(
                    toJson(v, indentValue, itemSep, keySep, sortKeys && sortKeys->truthy()));
            } catch (const JinjaRenderError &error) {
                fail(line, error.what());
            }
        }
        if (name == "items") {
            if (v.isUndefined())
                return Value::newList();
            if (v.type != Type::Dict)
                fail(line, "items filter needs a mapping, not " + typeName(v));
            return callMethod(v, "items", {}, line);
        }
        if (name == "selectattr" || name == "rejectattr")
            return Value::newList(selectItems(v, args, true, name == "selectattr", line));
        if (name == "select" || name == "reject")
            return Value::newList(selectItems(v, args, false, name == "select", line));
        if (name == "map") {
            ValueList out;
            bool hasAttribute = false;
            for (const auto &kw : args.named)
                hasAttribute = hasAttribute || kw.first == "attribute";
            if (hasAttribute) {
                std::string attribute = stringArg(Arguments{{}, args.named}, 99, "attribute", line);
                const Value *fallback = nullptr;
                for (const auto &kw : args.named)
                    if (kw.first == "default")
                        fallback = &kw.second;
                for (const auto &item : iterate(v, line)) {
                    Value mapped = attributePath(item, attribute, line);
                    out.push_back(mapped.isUndefined() && fallback ? *fallback : mapped);
                }
            } else {
                if (args.positional.empty() || args.positional[0].type != Type::String)
                    fail(line, "map needs a filter name or attribute=");
                Arguments rest{std::vector<Value>(args.positional.begin() + 1, args.positional.end()),
                               args.named};
                for (const auto &item : iterate(v, line))
                    out.push_back(applyFilter(args.positional[0].text, item, rest, line));
            }
            return Value::newList(std::move(out));
        }
        if (name == "int") {
            if (v.type == Type::Int)
                return v;
            if (v.type == Type::Float) {
                // Casting a double outside int64's range is undefined behaviour (found by fuzzing).
                if (!(std::fabs(v.real) < 9.2e18))
                    fail(line, "int() of " + toStr(v) + ": the result does not fit in 64 bits");
                return Value::fromInt(static_cast<int64_t>(v.real));
            }
            if (v.type == Type::Bool)
                return Value::fromInt(v.boolean);
            try {
                return Value::fromInt(std::stoll(strip(toStr(v), nullptr, true, true)));
            } catch (const std::exception &) {
                const Value *fallback = args.get(0, "default");
                return fallback ? *fallback : Value::fromInt(0);
            }
        }
        if (name == "float") {
            if (v.isNumber())
                return Value::fromFloat(v.asDouble());
            try {
                return Value::fromFloat(std::stod(toStr(v)));
            } catch (const std::exception &) {
                return Value::fromFloat(0.0);
            }
        }
        if (name == "abs") {
            if (v.type == Type::Float)
                return Value::fromFloat(std::fabs(v.real));
            if (v.isNumber())
                return Value::fromInt(std::llabs(v.type == Type::Bool ? v.boolean : v.integer));
            fail(line, "bad operand type for abs(): '" + typeName(v) + "'");
        }
        unsupported(line, "the filter '" + name + "'");
    }

    std::vector<std::unordered_map<std::string, Value>> m_frames;
    int64_t m_work = 0;
};

// Filters and tests that exist are checked when parsing, so an unsupported one triggers the fallback before
// any record is rendered instead of failing on the first record that reaches it.
void checkSupported(const Expr &e)
{
    static const char *const kFilters[] = {
        "trim",       "length",  "count",  "first", "last",   "list",       "string",
        "safe",       "e",       "escape", "upper", "lower",  "capitalize", "title",
        "replace",    "default", "d",      "join",  "tojson", "items",      "selectattr",
        "rejectattr", "select",  "reject", "map",   "int",    "float",      "abs"};
    static const char *const kTests[] = {
        "none",    "boolean",  "true",     "false",       "integer", "float", "number",      "string",
        "mapping", "iterable", "sequence", "callable",    "equalto", "eq",    "==",          "sameas",
        "ne",      "!=",       "lt",       "lessthan",    "le",      "gt",    "greaterthan", "ge",
        "in",      "odd",      "even",     "divisibleby", "lower",   "upper", "defined",     "undefined"};
    auto known = [](const auto &list, const std::string &name) {
        return std::any_of(std::begin(list), std::end(list), [&](const char *n) { return name == n; });
    };
    if (e.kind == Expr::Kind::Filter && !known(kFilters, e.name))
        throw JinjaUnsupported("chat template line " + std::to_string(e.line) + ": the filter '" + e.name +
                               "' is not supported by the built-in template engine");
    if (e.kind == Expr::Kind::Test && !known(kTests, e.name))
        throw JinjaUnsupported("chat template line " + std::to_string(e.line) + ": the test '" + e.name +
                               "' is not supported by the built-in template engine");
    for (const ExprPtr *child : {&e.a, &e.b, &e.c, &e.d})
        if (*child)
            checkSupported(**child);
    for (const auto &arg : e.args)
        checkSupported(*arg);
    for (const auto &kw : e.kwargs)
        checkSupported(*kw.second);
}

void checkSupported(const Node &node)
{
    if (node.expr)
        checkSupported(*node.expr);
    if (node.loopFilter)
        checkSupported(*node.loopFilter);
    for (const auto &branch : node.branches) {
        checkSupported(*branch.first);
        for (const auto &child : branch.second)
            checkSupported(*child);
    }
    for (const auto &child : node.body)
        checkSupported(*child);
    for (const auto &child : node.elseBody)
        checkSupported(*child);
}

} // namespace
} // namespace jinja

JinjaTemplate::JinjaTemplate(const std::string &source)
{
    jinja::NodePtr root = jinja::parse(jinja::tokenize(source));
    jinja::checkSupported(*root);
    m_root = root;
}

JinjaTemplate::~JinjaTemplate() = default;

std::string JinjaTemplate::render(const nlohmann::json &variables) const
{
    jinja::Renderer renderer(variables);
    std::string out;
    renderer.renderNodes(m_root->body, out);
    return out;
}

} // namespace emloc::core
