// Recursive-descent parser following jinja2/parser.py's precedence: condexpr < or < and < not < compare
// < + - < ~ < * / // % < ** < unary < primary/postfix, filters and tests binding to the unary operand.
#include "jinja_internal.h"

#include "emloc/text/jinja.h"

#include <set>

namespace emloc::core::jinja {

namespace {

class Parser
{
public:
    explicit Parser(const std::vector<Token> &tokens) : m_tokens(tokens) {}

    NodePtr parseTemplate()
    {
        auto root = std::make_shared<Node>();
        root->kind = Node::Kind::Body;
        std::string stopper;
        root->body = parseBody({}, stopper);
        return root;
    }

private:
    const Token &peek(size_t ahead = 0) const
    {
        size_t index = std::min(m_pos + ahead, m_tokens.size() - 1);
        return m_tokens[index];
    }
    const Token &next() { return m_tokens[std::min(m_pos++, m_tokens.size() - 1)]; }

    // How deep the tree being built can get: nested blocks, brackets and unary operators, and chains
    // such as a+b+c or x.y.z (left-deep trees). Bounded so that a hostile template cannot make rendering
    // or destroying the tree overflow the stack; real chat templates stay far below.
    static constexpr int kMaxDepth = 1000;
    // Counts `levels` more for the guard's lifetime.
    class Deeper
    {
    public:
        explicit Deeper(Parser &parser) : m_parser(parser) { step(); }
        ~Deeper() { m_parser.m_depth -= m_levels; }
        Deeper(const Deeper &) = delete;
        Deeper &operator=(const Deeper &) = delete;
        void step()
        {
            ++m_levels;
            if (++m_parser.m_depth > kMaxDepth)
                m_parser.fail("the template is nested too deeply (more than " + std::to_string(kMaxDepth) +
                                  " levels of blocks, brackets or chained operators)",
                              m_parser.peek().line);
        }

    private:
        Parser &m_parser;
        int m_levels = 0;
    };

    [[noreturn]] void fail(const std::string &what, int line) const
    {
        throw Error("chat template line " + std::to_string(line) + ": " + what);
    }
    [[noreturn]] void unsupported(const std::string &what, int line) const
    {
        throw JinjaUnsupported("chat template line " + std::to_string(line) + ": " + what +
                               " is not supported by the built-in template engine");
    }

    bool isOp(const char *op, size_t ahead = 0) const
    {
        const Token &t = peek(ahead);
        return t.kind == Token::Kind::Operator && t.text == op;
    }
    bool isName(const char *name, size_t ahead = 0) const
    {
        const Token &t = peek(ahead);
        return t.kind == Token::Kind::Name && t.text == name;
    }
    void expectOp(const char *op)
    {
        if (!isOp(op))
            fail(std::string("expected '") + op + "', found '" + describe(peek()) + "'", peek().line);
        ++m_pos;
    }
    std::string expectName()
    {
        if (peek().kind != Token::Kind::Name)
            fail("expected a name, found '" + describe(peek()) + "'", peek().line);
        return next().text;
    }
    void expectBlockEnd()
    {
        if (peek().kind != Token::Kind::BlockEnd)
            fail("expected end of statement block, found '" + describe(peek()) + "'", peek().line);
        ++m_pos;
    }
    static std::string describe(const Token &t)
    {
        switch (t.kind) {
        case Token::Kind::BlockEnd:
            return "%}";
        case Token::Kind::VarEnd:
            return "}}";
        case Token::Kind::End:
            return "end of template";
        default:
            return t.text;
        }
    }

    // Parses nodes until a block whose keyword is in `stoppers`; leaves the stopper keyword in `stopper`
    // with the tokens positioned after the keyword.
    NodeList parseBody(const std::set<std::string> &stoppers, std::string &stopper)
    {
        Deeper deeper(*this);
        NodeList nodes;
        while (true) {
            const Token &t = peek();
            if (t.kind == Token::Kind::End) {
                if (!stoppers.empty())
                    fail("unexpected end of template, expected '" + *stoppers.begin() + "'", t.line);
                return nodes;
            }
            if (t.kind == Token::Kind::Data) {
                auto node = std::make_shared<Node>();
                node->kind = Node::Kind::Text;
                node->text = t.text;
                node->line = t.line;
                nodes.push_back(node);
                ++m_pos;
            } else if (t.kind == Token::Kind::VarBegin) {
                ++m_pos;
                auto node = std::make_shared<Node>();
                node->kind = Node::Kind::Output;
                node->line = t.line;
                node->expr = parseTuple();
                if (peek().kind != Token::Kind::VarEnd)
                    fail("expected '}}', found '" + describe(peek()) + "'", peek().line);
                ++m_pos;
                nodes.push_back(node);
            } else if (t.kind == Token::Kind::BlockBegin) {
                ++m_pos;
                if (peek().kind != Token::Kind::Name)
                    fail("expected a statement keyword", peek().line);
                std::string keyword = peek().text;
                if (stoppers.count(keyword)) {
                    ++m_pos;
                    stopper = keyword;
                    return nodes;
                }
                nodes.push_back(parseStatement());
            } else {
                fail("unexpected '" + describe(t) + "'", t.line);
            }
        }
    }

    NodePtr parseStatement()
    {
        const Token &keywordToken = next();
        const std::string &keyword = keywordToken.text;
        int line = keywordToken.line;
        auto node = std::make_shared<Node>();
        node->line = line;
        if (keyword == "if") {
            node->kind = Node::Kind::If;
            ExprPtr condition = parseTuple();
            expectBlockEnd();
            while (true) {
                std::string stopper;
                NodeList body = parseBody({"elif", "else", "endif"}, stopper);
                node->branches.emplace_back(condition, std::move(body));
                if (stopper == "elif") {
                    condition = parseTuple();
                    expectBlockEnd();
                    continue;
                }
                expectBlockEnd();
                if (stopper == "else") {
                    std::string end;
                    node->elseBody = parseBody({"endif"}, end);
                    expectBlockEnd();
                }
                break;
            }
        } else if (keyword == "for") {
            node->kind = Node::Kind::For;
            node->targets.push_back(expectName());
            while (isOp(",")) {
                ++m_pos;
                node->targets.push_back(expectName());
            }
            if (!isName("in"))
                fail("expected 'in' in for loop", peek().line);
            ++m_pos;
            node->expr = parseTuple(/*withCondexpr=*/false);
            if (isName("if")) {
                ++m_pos;
                node->loopFilter = parseExpression();
            }
            if (isName("recursive"))
                unsupported("recursive for loops", line);
            expectBlockEnd();
            std::string stopper;
            node->body = parseBody({"else", "endfor"}, stopper);
            expectBlockEnd();
            if (stopper == "else") {
                std::string end;
                node->elseBody = parseBody({"endfor"}, end);
                expectBlockEnd();
            }
        } else if (keyword == "set") {
            std::string target = expectName();
            if (isOp(".")) {
                ++m_pos;
                node->attribute = expectName();
            }
            node->targets.push_back(target);
            while (node->attribute.empty() && isOp(",")) {
                ++m_pos;
                node->targets.push_back(expectName());
            }
            if (isOp("=")) {
                ++m_pos;
                node->kind = Node::Kind::Set;
                node->expr = parseTuple();
                expectBlockEnd();
            } else {
                if (node->targets.size() != 1 || !node->attribute.empty())
                    fail("a set block takes one plain name", line);
                if (isOp("|"))
                    unsupported("filtered set blocks", line);
                expectBlockEnd();
                node->kind = Node::Kind::SetBlock;
                std::string stopper;
                node->body = parseBody({"endset"}, stopper);
                expectBlockEnd();
            }
        } else if (keyword == "generation") {
            // transformers' AssistantTracker tag: renders its body unchanged.
            expectBlockEnd();
            node->kind = Node::Kind::Body;
            std::string stopper;
            node->body = parseBody({"endgeneration"}, stopper);
            expectBlockEnd();
        } else if (keyword == "break" || keyword == "continue") {
            node->kind = keyword == "break" ? Node::Kind::Break : Node::Kind::Continue;
            expectBlockEnd();
        } else if (keyword == "elif" || keyword == "else" || keyword == "endif" || keyword == "endfor" ||
                   keyword == "endset" || keyword == "endgeneration") {
            fail("unexpected '" + keyword + "'", line);
        } else {
            unsupported("the '" + keyword + "' statement", line);
        }
        return node;
    }

    ExprPtr make(Expr::Kind kind, int line)
    {
        auto e = std::make_shared<Expr>();
        e->kind = kind;
        e->line = line;
        return e;
    }

    // An expression or an unparenthesised tuple ("a, b").
    ExprPtr parseTuple(bool withCondexpr = true)
    {
        int line = peek().line;
        ExprPtr first = withCondexpr ? parseExpression() : parseOr();
        if (!isOp(","))
            return first;
        ExprPtr tuple = make(Expr::Kind::ListLit, line);
        tuple->name = "tuple";
        tuple->args.push_back(first);
        while (isOp(",")) {
            ++m_pos;
            if (peek().kind == Token::Kind::BlockEnd || peek().kind == Token::Kind::VarEnd || isOp(")"))
                break;
            tuple->args.push_back(withCondexpr ? parseExpression() : parseOr());
        }
        return tuple;
    }

    ExprPtr parseExpression()
    {
        Deeper deeper(*this);
        ExprPtr expr = parseOr();
        while (isName("if")) {
            deeper.step();
            int line = next().line;
            ExprPtr cond = make(Expr::Kind::Cond, line);
            cond->b = expr;
            cond->a = parseOr();
            if (isName("else")) {
                ++m_pos;
                cond->c = parseExpression();
            }
            expr = cond;
        }
        return expr;
    }

    ExprPtr parseOr()
    {
        Deeper deeper(*this);
        ExprPtr left = parseAnd();
        while (isName("or")) {
            deeper.step();
            ExprPtr node = make(Expr::Kind::Or, next().line);
            node->a = left;
            node->b = parseAnd();
            left = node;
        }
        return left;
    }

    ExprPtr parseAnd()
    {
        Deeper deeper(*this);
        ExprPtr left = parseNot();
        while (isName("and")) {
            deeper.step();
            ExprPtr node = make(Expr::Kind::And, next().line);
            node->a = left;
            node->b = parseNot();
            left = node;
        }
        return left;
    }

    ExprPtr parseNot()
    {
        Deeper deeper(*this);
        if (isName("not")) {
            ExprPtr node = make(Expr::Kind::Not, next().line);
            node->a = parseNot();
            return node;
        }
        return parseCompare();
    }

    ExprPtr parseCompare()
    {
        Deeper deeper(*this);
        ExprPtr left = parseMath1();
        while (true) {
            std::string op;
            int line = peek().line;
            const Token &t = peek();
            if (t.kind == Token::Kind::Operator && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                                    t.text == ">" || t.text == "<=" || t.text == ">=")) {
                op = t.text;
                ++m_pos;
            } else if (isName("in")) {
                op = "in";
                ++m_pos;
            } else if (isName("not") && isName("in", 1)) {
                op = "not in";
                m_pos += 2;
            } else {
                return left;
            }
            deeper.step();
            ExprPtr node = make(Expr::Kind::Binary, line);
            node->name = op;
            node->a = left;
            node->b = parseMath1();
            left = node;
        }
    }

    ExprPtr binaryLoop(ExprPtr (Parser::*operand)(), std::initializer_list<const char *> ops)
    {
        Deeper deeper(*this);
        ExprPtr left = (this->*operand)();
        while (true) {
            const char *matched = nullptr;
            for (const char *op : ops)
                if (isOp(op))
                    matched = op;
            if (!matched)
                return left;
            deeper.step();
            ExprPtr node = make(Expr::Kind::Binary, next().line);
            node->name = matched;
            node->a = left;
            node->b = (this->*operand)();
            left = node;
        }
    }

    ExprPtr parseMath1() { return binaryLoop(&Parser::parseConcat, {"+", "-"}); }
    ExprPtr parseConcat() { return binaryLoop(&Parser::parseMath2, {"~"}); }
    ExprPtr parseMath2() { return binaryLoop(&Parser::parsePow, {"*", "/", "//", "%"}); }
    ExprPtr parsePow() { return binaryLoop(&Parser::parseUnaryWithFilter, {"**"}); }
    ExprPtr parseUnaryWithFilter() { return parseUnary(true); }

    ExprPtr parseUnary(bool withFilter)
    {
        Deeper deeper(*this);
        ExprPtr node;
        if (isOp("-") || isOp("+")) {
            Expr::Kind kind = isOp("-") ? Expr::Kind::Neg : Expr::Kind::Pos;
            node = make(kind, next().line);
            node->a = parseUnary(false);
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        if (withFilter)
            node = parseFilterExpr(node);
        return node;
    }

    ExprPtr parsePrimary()
    {
        const Token &t = next();
        switch (t.kind) {
        case Token::Kind::Name: {
            if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
                ExprPtr e = make(Expr::Kind::Literal, t.line);
                e->value = Value::fromBool(t.text[0] == 't' || t.text[0] == 'T');
                return e;
            }
            if (t.text == "none" || t.text == "None") {
                ExprPtr e = make(Expr::Kind::Literal, t.line);
                e->value = Value::none();
                return e;
            }
            ExprPtr e = make(Expr::Kind::Name, t.line);
            e->name = t.text;
            return e;
        }
        case Token::Kind::String: {
            std::string text = t.text;
            while (peek().kind == Token::Kind::String) // adjacent literals concatenate
                text += next().text;
            ExprPtr e = make(Expr::Kind::Literal, t.line);
            e->value = Value::fromString(text);
            return e;
        }
        case Token::Kind::Int: {
            ExprPtr e = make(Expr::Kind::Literal, t.line);
            e->value = Value::fromInt(t.integer);
            return e;
        }
        case Token::Kind::Float: {
            ExprPtr e = make(Expr::Kind::Literal, t.line);
            e->value = Value::fromFloat(t.real);
            return e;
        }
        case Token::Kind::Operator:
            if (t.text == "(") {
                if (isOp(")")) { // empty tuple
                    ++m_pos;
                    ExprPtr empty = make(Expr::Kind::ListLit, t.line);
                    empty->name = "tuple";
                    return empty;
                }
                ExprPtr inner = parseTuple();
                expectOp(")");
                return inner;
            }
            if (t.text == "[") {
                ExprPtr list = make(Expr::Kind::ListLit, t.line);
                while (!isOp("]")) {
                    list->args.push_back(parseExpression());
                    if (!isOp(","))
                        break;
                    ++m_pos;
                }
                expectOp("]");
                return list;
            }
            if (t.text == "{") {
                ExprPtr dict = make(Expr::Kind::DictLit, t.line);
                while (!isOp("}")) {
                    dict->args.push_back(parseExpression());
                    expectOp(":");
                    dict->args.push_back(parseExpression());
                    if (!isOp(","))
                        break;
                    ++m_pos;
                }
                expectOp("}");
                return dict;
            }
            break;
        default:
            break;
        }
        fail("unexpected '" + describe(t) + "'", t.line);
    }

    void parseCallArguments(const ExprPtr &call)
    {
        expectOp("(");
        while (!isOp(")")) {
            if (isOp("*") || isOp("**"))
                unsupported("*args / **kwargs in calls", peek().line);
            if (peek().kind == Token::Kind::Name && isOp("=", 1)) {
                std::string key = next().text;
                ++m_pos;
                call->kwargs.emplace_back(key, parseExpression());
            } else {
                call->args.push_back(parseExpression());
            }
            if (!isOp(","))
                break;
            ++m_pos;
        }
        expectOp(")");
    }

    ExprPtr parsePostfix(ExprPtr node)
    {
        Deeper deeper(*this);
        while (true) {
            if (isOp(".") || isOp("[") || isOp("("))
                deeper.step();
            if (isOp(".")) {
                int line = next().line;
                ExprPtr attr;
                if (peek().kind == Token::Kind::Int) { // foo.0 is foo[0]
                    attr = make(Expr::Kind::Item, line);
                    attr->b = make(Expr::Kind::Literal, line);
                    attr->b->value = Value::fromInt(next().integer);
                } else {
                    attr = make(Expr::Kind::Attr, line);
                    attr->name = expectName();
                }
                attr->a = node;
                node = attr;
            } else if (isOp("[")) {
                int line = next().line;
                ExprPtr parts[3];
                bool isSlice = false;
                for (int part = 0; part < 3; ++part) {
                    if (!isOp(":") && !isOp("]"))
                        parts[part] = parseExpression();
                    if (isOp(":") && part < 2) {
                        ++m_pos;
                        isSlice = true;
                        continue;
                    }
                    break;
                }
                expectOp("]");
                ExprPtr item = make(isSlice ? Expr::Kind::Slice : Expr::Kind::Item, line);
                item->a = node;
                item->b = parts[0];
                item->c = parts[1];
                item->d = parts[2];
                if (!isSlice && !item->b)
                    fail("empty subscript", line);
                node = item;
            } else if (isOp("(")) {
                ExprPtr call = make(Expr::Kind::Call, peek().line);
                call->a = node;
                parseCallArguments(call);
                node = call;
            } else {
                return node;
            }
        }
    }

    ExprPtr parseFilterExpr(ExprPtr node)
    {
        Deeper deeper(*this);
        while (true) {
            if (isOp("|") || isName("is"))
                deeper.step();
            if (isOp("|")) {
                int line = next().line;
                ExprPtr filter = make(Expr::Kind::Filter, line);
                filter->name = expectName();
                while (isOp(".")) {
                    ++m_pos;
                    filter->name += "." + expectName();
                }
                filter->a = node;
                if (isOp("("))
                    parseCallArguments(filter);
                node = filter;
            } else if (isName("is")) {
                int line = next().line;
                ExprPtr test = make(Expr::Kind::Test, line);
                if (isName("not")) {
                    ++m_pos;
                    test->negated = true;
                }
                const Token &nameToken = next();
                if (nameToken.kind != Token::Kind::Name &&
                    !(nameToken.kind == Token::Kind::Operator &&
                      (nameToken.text == "==" || nameToken.text == "!=")))
                    fail("expected a test name after 'is'", nameToken.line);
                test->name = nameToken.text;
                if (test->name == "none" || test->name == "None")
                    test->name = "none";
                if (test->name == "true" || test->name == "True")
                    test->name = "true";
                if (test->name == "false" || test->name == "False")
                    test->name = "false";
                test->a = node;
                const Token &t = peek();
                if (isOp("(")) {
                    parseCallArguments(test);
                } else if ((t.kind == Token::Kind::Name || t.kind == Token::Kind::String ||
                            t.kind == Token::Kind::Int || t.kind == Token::Kind::Float || isOp("[") ||
                            isOp("{")) &&
                           !(t.kind == Token::Kind::Name &&
                             (t.text == "else" || t.text == "or" || t.text == "and" || t.text == "if" ||
                              t.text == "in" || t.text == "not" || t.text == "is"))) {
                    test->args.push_back(parsePostfix(parsePrimary()));
                }
                node = test;
            } else if (isOp("(")) {
                ExprPtr call = make(Expr::Kind::Call, peek().line);
                call->a = node;
                parseCallArguments(call);
                node = call;
            } else {
                return node;
            }
        }
    }

    const std::vector<Token> &m_tokens;
    size_t m_pos = 0;
    int m_depth = 0;
};

} // namespace

NodePtr parse(const std::vector<Token> &tokens)
{
    return Parser(tokens).parseTemplate();
}

} // namespace emloc::core::jinja
