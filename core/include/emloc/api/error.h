#pragma once

#include <stdexcept>
#include <string>

namespace emloc::core {

// The one exception type the engine throws for problems a user can act on. The message says what
// went wrong, where (file, tensor, field, line) and what to do. Job boundaries turn it, and any
// other std::exception, into a Failed result.
class Error : public std::runtime_error
{
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

// Thrown by Feedback::checkCancelled(); the job boundary turns it into a Cancelled result.
class CancelledError : public std::runtime_error
{
public:
    CancelledError() : std::runtime_error("cancelled by the user") {}
};

// A library's message may carry a C++ backtrace after its first line; a person needs only that line.
inline std::string firstLineOf(const std::string &message)
{
    const auto end = message.find('\n');
    return end == std::string::npos ? message : message.substr(0, end);
}

} // namespace emloc::core
