// Jinja's lexer with the environment transformers uses: trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False, newlines normalised to "\n".
#include "jinja_internal.h"

#include "emloc/api/parse_number.h"
#include "emloc/io/utf8.h"
#include "emloc/text/jinja.h"

#include <cctype>
#include <cstring>

namespace emloc::core::jinja {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string normalizeNewlines(const std::string &source)
{
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n')
                ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

// Python's "unicode-escape" decoding of a string literal's body.
std::string unescape(const std::string &body, int line)
{
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c != '\\' || i + 1 >= body.size()) {
            out += c;
            continue;
        }
        char e = body[++i];
        auto hexValue = [&](size_t digits) {
            if (i + digits >= body.size())
                throw Error("chat template line " + std::to_string(line) + ": truncated \\x/\\u escape");
            const auto value = parseInt64(body.substr(i + 1, digits), 16);
            if (!value || *value < 0)
                throw Error("chat template line " + std::to_string(line) +
                            ": \\x/\\u escape with non-hex digits");
            const uint32_t cp = static_cast<uint32_t>(*value);
            i += digits;
            return cp;
        };
        switch (e) {
        case 'n':
            out += '\n';
            break;
        case 't':
            out += '\t';
            break;
        case 'r':
            out += '\r';
            break;
        case '\\':
            out += '\\';
            break;
        case '\'':
            out += '\'';
            break;
        case '"':
            out += '"';
            break;
        case 'a':
            out += '\a';
            break;
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'v':
            out += '\v';
            break;
        case '\n':
            break; // line continuation
        case 'x':
            unicode::appendUtf8(out, hexValue(2));
            break;
        case 'u':
            unicode::appendUtf8(out, hexValue(4));
            break;
        case 'U':
            unicode::appendUtf8(out, hexValue(8));
            break;
        default:
            if (e >= '0' && e <= '7') {
                uint32_t cp = static_cast<uint32_t>(e - '0');
                for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
                    cp = cp * 8 + static_cast<uint32_t>(body[++i] - '0');
                unicode::appendUtf8(out, cp);
            } else {
                out += '\\';
                out += e;
            }
        }
    }
    return out;
}

const char *const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[",
                                  "]",  "(",  ")",  "{",  "}",  "<",  ">", "=", ".", ":", "|", ",", ";"};

class Lexer
{
public:
    explicit Lexer(std::string source) : m_src(std::move(source)) {}

    std::vector<Token> run()
    {
        bool lineStarting = true;
        size_t pos = 0;
        while (pos < m_src.size()) {
            size_t tag = findTag(pos);
            std::string text = m_src.substr(pos, tag == std::string::npos ? std::string::npos : tag - pos);
            if (tag == std::string::npos) {
                emitData(text, pos);
                break;
            }
            char kind = m_src[tag + 1]; // '{', '%' or '#'
            char sign = tag + 2 < m_src.size() ? m_src[tag + 2] : '\0';
            if (sign == '-') {
                size_t end = text.size();
                while (end > 0 && isSpace(text[end - 1]))
                    --end;
                text.resize(end);
            } else if (sign != '+' && kind != '{') {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                size_t lineStart = text.rfind('\n');
                lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
                if ((lineStart > 0 || lineStarting) &&
                    text.find_first_not_of(" \t", lineStart) == std::string::npos)
                    text.resize(lineStart);
            }
            emitData(text, pos);
            size_t inner = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
            if (kind == '#') {
                size_t close = m_src.find("#}", inner);
                if (close == std::string::npos)
                    throw Error("chat template line " + std::to_string(lineAt(tag)) +
                                ": unclosed comment {#");
                pos = closeTag(close, 2, true, close > inner && m_src[close - 1] == '-',
                               close > inner && m_src[close - 1] == '+');
            } else {
                pos = lexTag(inner, kind == '%', lineAt(tag));
            }
            lineStarting = pos > 0 && m_src[pos - 1] == '\n';
        }
        m_tokens.push_back(Token{Token::Kind::End, "", 0, 0, lineAt(m_src.size())});
        return std::move(m_tokens);
    }

private:
    size_t findTag(size_t from) const
    {
        size_t pos = from;
        while ((pos = m_src.find('{', pos)) != std::string::npos) {
            if (pos + 1 < m_src.size() &&
                (m_src[pos + 1] == '{' || m_src[pos + 1] == '%' || m_src[pos + 1] == '#'))
                return pos;
            ++pos;
        }
        return std::string::npos;
    }

    int lineAt(size_t offset)
    {
        // Lines are counted incrementally: offsets only grow.
        while (m_lineOffset < offset && m_lineOffset < m_src.size()) {
            if (m_src[m_lineOffset] == '\n')
                ++m_line;
            ++m_lineOffset;
        }
        return m_line;
    }

    void emitData(const std::string &text, size_t offset)
    {
        if (!text.empty())
            m_tokens.push_back(Token{Token::Kind::Data, text, 0, 0, lineAt(offset)});
    }

    // Position after a closing delimiter of `length` characters at `at`, honouring -%} and trim_blocks.
    size_t closeTag(size_t at, size_t length, bool isBlock, bool stripAfter, bool keepNewline)
    {
        size_t pos = at + length;
        if (stripAfter) {
            while (pos < m_src.size() && isSpace(m_src[pos]))
                ++pos;
        } else if (isBlock && !keepNewline && pos < m_src.size() && m_src[pos] == '\n') {
            ++pos;
        }
        return pos;
    }

    size_t lexTag(size_t pos, bool isBlock, int line)
    {
        m_tokens.push_back(Token{isBlock ? Token::Kind::BlockBegin : Token::Kind::VarBegin, "", 0, 0, line});
        const char *close = isBlock ? "%}" : "}}";
        int braceDepth = 0;
        while (true) {
            while (pos < m_src.size() && isSpace(m_src[pos]))
                ++pos;
            if (pos >= m_src.size())
                throw Error("chat template line " + std::to_string(line) + ": unclosed " +
                            (isBlock ? "{%" : "{{") + " tag");
            int tokenLine = lineAt(pos);
            // End of tag first: "-%}" must win over the minus operator.
            for (char modifier : {'-', '+', '\0'}) {
                if (modifier == '+' && !isBlock)
                    continue;
                size_t at = modifier ? pos + 1 : pos;
                if ((modifier && m_src[pos] != modifier) || m_src.compare(at, 2, close) != 0)
                    continue;
                if (!isBlock && !modifier && braceDepth > 0)
                    break; // "}}" closing a dict literal
                m_tokens.push_back(
                    Token{isBlock ? Token::Kind::BlockEnd : Token::Kind::VarEnd, "", 0, 0, tokenLine});
                return closeTag(at, 2, isBlock, modifier == '-', modifier == '+');
            }
            char c = m_src[pos];
            if (c == '\'' || c == '"') {
                size_t end = pos + 1;
                while (end < m_src.size() && m_src[end] != c)
                    end += m_src[end] == '\\' ? 2 : 1;
                if (end >= m_src.size())
                    throw Error("chat template line " + std::to_string(tokenLine) + ": unterminated string");
                m_tokens.push_back(Token{Token::Kind::String,
                                         unescape(m_src.substr(pos + 1, end - pos - 1), tokenLine), 0, 0,
                                         tokenLine});
                pos = end + 1;
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                size_t end = pos;
                while (end < m_src.size() &&
                       (std::isdigit(static_cast<unsigned char>(m_src[end])) || m_src[end] == '_'))
                    ++end;
                bool isFloat = false;
                if (end + 1 < m_src.size() && m_src[end] == '.' &&
                    std::isdigit(static_cast<unsigned char>(m_src[end + 1]))) {
                    isFloat = true;
                    ++end;
                    while (end < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[end])))
                        ++end;
                }
                if (end < m_src.size() && (m_src[end] == 'e' || m_src[end] == 'E')) {
                    size_t e = end + 1;
                    if (e < m_src.size() && (m_src[e] == '+' || m_src[e] == '-'))
                        ++e;
                    if (e < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[e]))) {
                        isFloat = true;
                        end = e;
                        while (end < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[end])))
                            ++end;
                    }
                }
                std::string digits;
                for (size_t k = pos; k < end; ++k)
                    if (m_src[k] != '_')
                        digits += m_src[k];
                Token token{isFloat ? Token::Kind::Float : Token::Kind::Int, digits, 0, 0, tokenLine};
                if (isFloat) {
                    token.real = std::strtod(digits.c_str(), nullptr); // inf past the range, as Python
                } else {
                    const auto integer = parseInt64(digits);
                    if (!integer)
                        throw Error("chat template line " + std::to_string(tokenLine) + ": the number " +
                                    digits.substr(0, 40) + " is too large");
                    token.integer = *integer;
                }
                m_tokens.push_back(token);
                pos = end;
            } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t end = pos;
                while (end < m_src.size() &&
                       (std::isalnum(static_cast<unsigned char>(m_src[end])) || m_src[end] == '_'))
                    ++end;
                m_tokens.push_back(Token{Token::Kind::Name, m_src.substr(pos, end - pos), 0, 0, tokenLine});
                pos = end;
            } else {
                bool matched = false;
                for (const char *op : kOperators) {
                    size_t length = std::strlen(op);
                    if (m_src.compare(pos, length, op) == 0) {
                        if (op[0] == '{' || op[0] == '[' || op[0] == '(')
                            ++braceDepth;
                        else if (op[0] == '}' || op[0] == ']' || op[0] == ')')
                            --braceDepth;
                        m_tokens.push_back(Token{Token::Kind::Operator, op, 0, 0, tokenLine});
                        pos += length;
                        matched = true;
                        break;
                    }
                }
                if (!matched)
                    throw Error("chat template line " + std::to_string(tokenLine) +
                                ": unexpected character '" + std::string(1, c) + "'");
            }
        }
    }

    std::string m_src;
    std::vector<Token> m_tokens;
    size_t m_lineOffset = 0;
    int m_line = 1;
};

} // namespace

std::vector<Token> tokenize(const std::string &source)
{
    return Lexer(normalizeNewlines(source)).run();
}

} // namespace emloc::core::jinja
