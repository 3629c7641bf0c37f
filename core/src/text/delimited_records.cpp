#include "delimited_records.h"

#include "emloc/api/error.h"
#include "unicode_classes.h"

namespace emloc::core::text {

namespace {
constexpr int kEnd = std::char_traits<char>::eof();

enum class State {
    FieldStart, // nothing of the field read yet
    Unquoted,
    Quoted,
    QuoteSeen, // a quote inside a quoted field: the closing one, or the first of a doubled pair
};
} // namespace

DelimitedRecordReader::DelimitedRecordReader(std::istream &stream, char delimiter, std::string path)
    : m_stream(stream), m_delimiter(delimiter), m_path(std::move(path))
{}

void DelimitedRecordReader::fail(int64_t line, const std::string &what) const
{
    throw Error(m_path + ":" + std::to_string(line) + ": " + what);
}

bool DelimitedRecordReader::next(std::vector<std::string> &fields, size_t maxFields)
{
    std::streambuf *buffer = m_stream.rdbuf();
    if (!buffer)
        return false;
    if (!m_started) {
        m_started = true;
        if (buffer->sgetc() == 0xEF) {
            const std::streampos start = m_stream.tellg();
            char bom[3] = {};
            m_stream.read(bom, 3);
            if (m_stream.gcount() != 3 || std::string(bom, 3) != "\xEF\xBB\xBF") {
                m_stream.clear();
                m_stream.seekg(start);
            }
        }
    }
    const char *const delimiterName = m_delimiter == '\t' ? "tab" : "comma";
    for (;;) {
        fields.clear();
        std::string field;
        State state = State::FieldStart;
        m_recordLine = m_line + 1;
        int64_t fieldLine = m_recordLine;
        size_t recordBytes = 0;
        auto endField = [&] {
            if (fields.size() >= maxFields)
                fail(fieldLine, "more than " + std::to_string(maxFields) +
                                    " fields: put a field that holds a " + delimiterName +
                                    " in double quotes");
            if (unicode::findInvalidUtf8(field) != std::string::npos)
                fail(fieldLine, "field " + std::to_string(fields.size() + 1) +
                                    " is not valid UTF-8: save the file as UTF-8");
            fields.push_back(std::move(field));
            field.clear();
            fieldLine = m_line + 1;
            state = State::FieldStart;
        };
        // LF or CRLF ends a record outside quotes; a lone CR is text.
        auto lineBreak = [&](int c) {
            if (c == '\r' && buffer->sgetc() == '\n')
                buffer->sbumpc();
            else if (c != '\n')
                return false;
            ++m_line;
            return true;
        };

        int c = buffer->sbumpc();
        if (c == kEnd)
            return false;
        if ((c == '\n' || c == '\r') && lineBreak(c))
            continue; // a blank line
        for (;; c = buffer->sbumpc()) {
            if (++recordBytes > kMaxRecordBytes)
                fail(m_recordLine, "the record starting here is longer than " +
                                       std::to_string(kMaxRecordBytes >> 20) +
                                       " MiB: is a quote left unclosed?");
            if (c == kEnd) {
                if (state == State::Quoted)
                    fail(fieldLine, "the quoted field " + std::to_string(fields.size() + 1) +
                                        " opened here is never closed: end it with a double quote");
                endField();
                return true;
            }
            const char ch = static_cast<char>(c);
            switch (state) {
            case State::FieldStart:
            case State::Unquoted:
                if (ch == m_delimiter) {
                    endField();
                } else if ((ch == '\n' || ch == '\r') && lineBreak(c)) {
                    endField();
                    return true;
                } else if (ch == '"' && state == State::FieldStart) {
                    state = State::Quoted;
                } else if (ch == '"') {
                    fail(m_line + 1, "field " + std::to_string(fields.size() + 1) +
                                         " holds a quote but does not start with one: put the field in "
                                         "double quotes and double the quotes inside (\"\")");
                } else {
                    field += ch;
                    state = State::Unquoted;
                }
                break;
            case State::Quoted:
                if (ch == '"')
                    state = State::QuoteSeen;
                else
                    field += ch;
                if (ch == '\n')
                    ++m_line;
                break;
            case State::QuoteSeen:
                if (ch == '"') {
                    field += '"';
                    state = State::Quoted;
                } else if (ch == m_delimiter) {
                    endField();
                } else if ((ch == '\n' || ch == '\r') && lineBreak(c)) {
                    endField();
                    return true;
                } else {
                    fail(m_line + 1, "text after the closing quote of field " +
                                         std::to_string(fields.size() + 1) + ": a " + delimiterName +
                                         " or the line's end must follow it; double a quote inside a "
                                         "quoted field (\"\")");
                }
                break;
            }
        }
    }
}

} // namespace emloc::core::text
