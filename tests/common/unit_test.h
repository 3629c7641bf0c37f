#pragma once
// The harness of core's suites: plain C++17, no Qt, so a machine with LibTorch and a compiler (a GPU
// server) builds and runs them. A suite is a list of TEST_CASE functions run in the order they are
// written; an assertion that fails ends its test case (it throws), as Qt Test's macros return.
//
//   TEST_CASE(plansFitTheBudget) { COMPARE(plan.ratio, 0.4); VERIFY2(ok, str("ratio ", r)); }
//
// The runner (the library's main) prints one line per test case and a total, exits non-zero when one failed,
// and takes test case names as arguments to run only those (`-functions` lists them).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace emloc::test {

// Thrown by a failed assertion and by SKIP; the runner catches them.
struct AssertionFailed
{
    std::string message;
    const char *file;
    int line;
};
struct Skipped
{
    std::string reason;
};

void registerTestCase(const char *name, void (*function)());
// Runs before every test case (a missing reference package, no GPU); its SKIP skips the whole suite.
void registerSuiteSetup(void (*function)());

[[noreturn]] void fail(const std::string &message, const char *file, int line);
[[noreturn]] void skip(const std::string &reason);
// A measurement worth reading in the log (ctest --output-on-failure, or -V).
void info(const std::string &message);

// The data row (or any sub-case) a failure belongs to, named in its message while this object lives.
class Row
{
public:
    explicit Row(std::string name);
    ~Row();
    Row(const Row &) = delete;
    Row &operator=(const Row &) = delete;
};

// A fresh folder under $TMPDIR, removed with its contents when the object goes.
class TempDir
{
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return m_path; }
    std::string filePath(const std::string &name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

std::string readFile(const std::string &path); // fails the test case when it cannot
void writeFile(const std::string &path, const std::string &bytes);
bool fileExists(const std::string &path);
bool startsWith(const std::string &text, const std::string &prefix);
bool endsWith(const std::string &text, const std::string &suffix);
bool contains(const std::string &text, const std::string &part);
// The last `maxChars` characters: for messages about long outputs.
std::string tail(const std::string &text, size_t maxChars = 3000);
std::string trimmed(const std::string &text); // without leading and trailing white space
std::string joined(const std::vector<std::string> &parts, const std::string &separator);
// printf-style, for measurements logged with info() in a fixed format.
std::string format(const char *pattern, ...) __attribute__((format(printf, 1, 2)));

// Paths and programs the build configures (the same on every suite).
std::string testDataDir(); // tests/data
std::string sourceDir();
std::string pythonExecutable();
std::string demoGgufPath(); // the SmolLM2-135M-Instruct Q4_1 GGUF fetched by setup
std::string cliBinary();
std::string referenceScript(const std::string &name); // tests/reference/<name>

namespace detail {

template <typename T, typename = void> struct Streamable : std::false_type
{};
template <typename T>
struct Streamable<T, std::void_t<decltype(std::declval<std::ostream &>() << std::declval<const T &>())>>
    : std::true_type
{};
template <typename T, typename = void> struct Iterable : std::false_type
{};
template <typename T>
struct Iterable<T, std::void_t<decltype(std::begin(std::declval<const T &>())),
                               decltype(std::end(std::declval<const T &>()))>> : std::true_type
{};

template <typename T> void write(std::ostream &out, const T &value)
{
    if constexpr (std::is_same_v<T, bool>) {
        out << (value ? "true" : "false");
    } else if constexpr (std::is_same_v<T, std::string> || std::is_convertible_v<T, const char *>) {
        out << '"' << value << '"';
    } else if constexpr (std::is_enum_v<T> && !Streamable<T>::value) {
        out << static_cast<long long>(value);
    } else if constexpr (std::is_floating_point_v<T>) {
        std::ostringstream precise;
        precise.precision(std::is_same_v<T, float> ? 9 : 17);
        precise << value;
        out << precise.str();
    } else if constexpr (Streamable<T>::value) {
        out << value;
    } else if constexpr (Iterable<T>::value) {
        out << '{';
        size_t n = 0;
        for (const auto &item : value) {
            if (n++ == 24) {
                out << ", ...";
                break;
            }
            out << (n > 1 ? ", " : "");
            write(out, item);
        }
        out << '}';
    } else if constexpr (std::is_same_v<T, std::nullopt_t>) {
        out << "nullopt";
    } else {
        out << "(a value that cannot be printed)";
    }
}

template <typename T> void write(std::ostream &out, const std::optional<T> &value)
{
    if (value)
        write(out, *value);
    else
        out << "nullopt";
}

template <typename A, typename B> bool equal(const A &actual, const B &expected)
{
    if constexpr (std::is_floating_point_v<A> || std::is_floating_point_v<B>) {
        // Qt Test's rule, kept so the suites assert what they did: equal within 12 significant digits
        // for double (5 for float), and an expected 0 asks for |actual| <= 1e-12.
        using F = std::conditional_t<std::is_same_v<A, float> && std::is_same_v<B, float>, float, double>;
        const F a = static_cast<F>(actual), b = static_cast<F>(expected);
        if (std::isnan(a) || std::isnan(b))
            return std::isnan(a) && std::isnan(b);
        if (std::isinf(a) || std::isinf(b))
            return a == b;
        const F scale = std::is_same_v<F, float> ? F(100000) : F(1000000000000);
        if (b == 0)
            return std::abs(a) <= 1 / scale;
        return std::abs(a - b) * scale <= std::min(std::abs(a), std::abs(b));
    } else if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool> &&
                         !std::is_same_v<B, bool>) {
        if constexpr (std::is_signed_v<A> == std::is_signed_v<B>)
            return actual == expected;
        else if constexpr (std::is_signed_v<A>)
            return actual >= 0 && std::make_unsigned_t<A>(actual) == expected;
        else
            return expected >= 0 && actual == std::make_unsigned_t<B>(expected);
    } else if constexpr (std::is_convertible_v<A, const char *> && std::is_convertible_v<B, const char *>) {
        return std::strcmp(actual, expected) == 0;
    } else {
        return actual == expected;
    }
}

template <typename A, typename B>
void compare(const A &actual, const B &expected, const char *actualText, const char *expectedText,
             const char *file, int line)
{
    if (equal(actual, expected))
        return;
    std::ostringstream message;
    message << "Compared values are not the same\n   Actual   (" << actualText << "): ";
    write(message, actual);
    message << "\n   Expected (" << expectedText << "): ";
    write(message, expected);
    fail(message.str(), file, line);
}

inline std::string messageText(const std::string &text)
{
    return text;
}
inline std::string messageText(const char *text)
{
    return text ? text : "";
}

struct Registration
{
    Registration(const char *name, void (*function)()) { registerTestCase(name, function); }
};
struct SetupRegistration
{
    explicit SetupRegistration(void (*function)()) { registerSuiteSetup(function); }
};

} // namespace detail

// Concatenates anything streamable: str("ratio ", 0.4, " of ", n) (floating point at full precision).
template <typename... Parts> std::string str(const Parts &...parts)
{
    std::ostringstream out;
    const auto append = [&out](const auto &part) {
        if constexpr (std::is_floating_point_v<std::decay_t<decltype(part)>>)
            detail::write(out, part);
        else
            out << part;
    };
    (append(parts), ...);
    return out.str();
}

} // namespace emloc::test

#if defined(VERIFY) || defined(VERIFY2) || defined(COMPARE) || defined(SKIP) || defined(FAIL) ||             \
    defined(TEST_CASE)
#error "unit_test.h: a header included before it defines one of its macros"
#endif

#define TEST_CASE(name)                                                                                      \
    static void name();                                                                                      \
    static const ::emloc::test::detail::Registration name##_registration{#name, &name};                      \
    static void name()

#define SUITE_SETUP()                                                                                        \
    static void suiteSetup();                                                                                \
    static const ::emloc::test::detail::SetupRegistration suiteSetup_registration{&suiteSetup};              \
    static void suiteSetup()

#define VERIFY(condition)                                                                                    \
    do {                                                                                                     \
        if (!static_cast<bool>(condition))                                                                   \
            ::emloc::test::fail("'" #condition "' returned FALSE.", __FILE__, __LINE__);                     \
    } while (false)

#define VERIFY2(condition, message)                                                                          \
    do {                                                                                                     \
        if (!static_cast<bool>(condition))                                                                   \
            ::emloc::test::fail("'" #condition "' returned FALSE. (" +                                       \
                                    ::emloc::test::detail::messageText(message) + ")",                       \
                                __FILE__, __LINE__);                                                         \
    } while (false)

#define COMPARE(actual, expected)                                                                            \
    ::emloc::test::detail::compare((actual), (expected), #actual, #expected, __FILE__, __LINE__)

// Passes when `expression` throws ExceptionType (or a type derived from it).
#define VERIFY_THROWS(ExceptionType, expression)                                                             \
    do {                                                                                                     \
        bool threw_ = false;                                                                                 \
        try {                                                                                                \
            expression;                                                                                      \
        } catch (const ExceptionType &) {                                                                    \
            threw_ = true;                                                                                   \
        }                                                                                                    \
        if (!threw_)                                                                                         \
            ::emloc::test::fail("Expected exception of type " #ExceptionType                                 \
                                " to be thrown by " #expression,                                             \
                                __FILE__, __LINE__);                                                         \
    } while (false)

#define FAIL(message) ::emloc::test::fail(::emloc::test::detail::messageText(message), __FILE__, __LINE__)
#define SKIP(reason) ::emloc::test::skip(::emloc::test::detail::messageText(reason))
