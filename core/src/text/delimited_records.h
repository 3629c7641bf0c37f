#pragma once
// CSV and TSV records as RFC 4180 defines them: a field in double quotes may hold the delimiter, line
// breaks and doubled quotes (""); records end at LF or CRLF. Strict, since a lenient reader would turn a
// stray quote into a silently wrong record: text after a closing quote, or a quote inside an unquoted
// field, is an Error naming the file and line. Bounded on hostile input: a record may not grow past
// kMaxRecordBytes (an unclosed quote would otherwise read the rest of the file into one field) nor hold
// more fields than the caller allows.

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace emloc::core::text {

class DelimitedRecordReader
{
public:
    static constexpr size_t kMaxRecordBytes = size_t(64) << 20;

    // `path` names the file in errors. The stream is read from its current position.
    DelimitedRecordReader(std::istream &stream, char delimiter, std::string path);

    // Fills `fields` with the next record and returns true, or returns false at the end of the stream.
    // Blank lines are skipped; a UTF-8 BOM at the start is ignored. Error (file:line) on malformed
    // quoting, invalid UTF-8, an unclosed quote at the end, or more than `maxFields` fields.
    bool next(std::vector<std::string> &fields, size_t maxFields);

    int64_t recordLine() const { return m_recordLine; } // 1-based line where the last record starts
    int64_t linesRead() const { return m_line; }

private:
    [[noreturn]] void fail(int64_t line, const std::string &what) const;

    std::istream &m_stream;
    char m_delimiter;
    std::string m_path;
    int64_t m_line = 0; // line breaks consumed so far
    int64_t m_recordLine = 0;
    bool m_started = false;
};

} // namespace emloc::core::text
