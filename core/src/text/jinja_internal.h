#pragma once
// The Jinja interpreter's pieces: Python-like values, the token stream and the syntax tree.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emloc::core::jinja {

struct Value;
using ValueList = std::vector<Value>;

// Insertion-ordered like a Python dict; chat templates only use string keys.
struct ValueDict
{
    std::vector<std::pair<std::string, Value>> items;
    const Value *find(const std::string &key) const;
    Value *find(const std::string &key);
    void set(const std::string &key, Value value);
};

// A Python value as a template sees it. Lists and dicts are shared (Python reference semantics), which is
// what lets `namespace()` objects be updated from inside loops.
struct Value
{
    enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict };
    Type type = Type::Undefined;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0;
    std::string text;                // String; for Undefined: the missing name (for error messages)
    std::shared_ptr<ValueList> list; // List (tuples too)
    std::shared_ptr<ValueDict> dict; // Dict
    bool isNamespace = false;
    bool isTuple = false; // a List written as (a, b): str() shows parentheses

    static Value undefined(std::string name = {});
    static Value none();
    static Value fromBool(bool v);
    static Value fromInt(int64_t v);
    static Value fromFloat(double v);
    static Value fromString(std::string v);
    static Value newList(ValueList items = {});
    static Value newDict();
    static Value fromJson(const nlohmann::json &json);

    bool isUndefined() const { return type == Type::Undefined; }
    bool isNumber() const { return type == Type::Int || type == Type::Float || type == Type::Bool; }
    bool truthy() const;
    double asDouble() const;
};

std::string typeName(const Value &value);
std::string toStr(const Value &value);  // Python str()
std::string toRepr(const Value &value); // Python repr()
bool valuesEqual(const Value &a, const Value &b);
// Python's json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=...); indent < 0: none.
std::string toJson(const Value &value, int indent, const std::string &itemSeparator,
                   const std::string &keySeparator, bool sortKeys);
std::string formatFloat(double v); // Python repr(float)
size_t codepointCount(const std::string &text);
// Byte offset of every codepoint, then text.size(): indexing and slicing without a string per character.
std::vector<size_t> codepointStarts(const std::string &text);
std::string_view codepointAt(const std::string &text, const std::vector<size_t> &starts, size_t index);
std::vector<std::string> splitCodepoints(const std::string &text);

// ---- tokens

struct Token
{
    enum class Kind { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Operator, End };
    Kind kind = Kind::End;
    std::string text; // data, name, operator, unescaped string
    int64_t integer = 0;
    double real = 0;
    int line = 1;
};

// Applies trim_blocks / lstrip_blocks / {%- -%} exactly as Jinja's lexer does.
std::vector<Token> tokenize(const std::string &source);

// ---- syntax tree

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

struct Expr
{
    enum class Kind {
        Literal, // value
        Name,    // name
        ListLit, // args (tuples as well)
        DictLit, // kwargs keys are evaluated args pairs: args[2k] key, args[2k+1] value
        Attr,    // a.name
        Item,    // a[b]
        Slice,   // a[b:c:d], missing parts null
        Call,    // a(args, kwargs)
        Filter,  // a | name(args, kwargs)
        Test,    // a is [not] name(args)
        Not,     // not a
        Neg,     // -a
        Pos,     // +a
        Binary,  // a op b (name = op)
        And,
        Or,
        Cond // b if a else c  (a condition, b then, c else (may be null))
    };
    Kind kind = Kind::Literal;
    int line = 1;
    Value value;
    std::string name;
    ExprPtr a, b, c, d;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool negated = false;
};

struct Node;
using NodePtr = std::shared_ptr<Node>;
using NodeList = std::vector<NodePtr>;

struct Node
{
    enum class Kind { Body, Text, Output, If, For, Set, SetBlock, Break, Continue };
    Kind kind = Kind::Body;
    int line = 1;
    std::string text;                                   // Text
    ExprPtr expr;                                       // Output, Set value, For iterable
    NodeList body;                                      // Body, For body, SetBlock body
    std::vector<std::pair<ExprPtr, NodeList>> branches; // If/elif (condition, body)
    NodeList elseBody;                                  // If else, For else
    std::vector<std::string> targets;                   // For/Set target names (several: unpacking)
    std::string attribute;                              // Set ns.attribute
    ExprPtr loopFilter;                                 // for x in y if cond
};

NodePtr parse(const std::vector<Token> &tokens);

} // namespace emloc::core::jinja
