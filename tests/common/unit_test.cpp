#include "unit_test.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <unistd.h>

namespace emloc::test {

namespace {

struct TestCase
{
    const char *name;
    void (*function)();
};

// Function-local statics: registrations run during static initialisation, in the suite's own order.
std::vector<TestCase> &testCases()
{
    static std::vector<TestCase> cases;
    return cases;
}
void (*&suiteSetup())()
{
    static void (*setup)() = nullptr;
    return setup;
}
std::vector<std::string> &rowStack()
{
    static std::vector<std::string> rows;
    return rows;
}
const char *&currentTestName()
{
    static const char *name = "";
    return name;
}

std::string rowSuffix()
{
    std::string suffix;
    for (const auto &row : rowStack())
        suffix += "(" + row + ")";
    return suffix;
}

enum class Outcome { Passed, Failed, Skipped };

// Runs one test case (or the setup), reporting a failure or a skip; never throws.
Outcome runGuarded(const char *name, void (*function)(), std::string &skipReason)
{
    rowStack().clear();
    currentTestName() = name;
    try {
        function();
        return Outcome::Passed;
    } catch (const AssertionFailed &failure) {
        std::cout << "FAIL!  : " << name << rowSuffix() << " " << failure.message << "\n   Loc: ["
                  << failure.file << "(" << failure.line << ")]" << std::endl;
    } catch (const Skipped &skipped) {
        skipReason = skipped.reason;
        return Outcome::Skipped;
    } catch (const std::exception &error) {
        std::cout << "FAIL!  : " << name << rowSuffix() << " Caught unhandled exception: " << error.what()
                  << std::endl;
    } catch (...) {
        std::cout << "FAIL!  : " << name << rowSuffix() << " Caught an unknown exception" << std::endl;
    }
    return Outcome::Failed;
}

} // namespace

void registerTestCase(const char *name, void (*function)())
{
    testCases().push_back({name, function});
}

void registerSuiteSetup(void (*function)())
{
    suiteSetup() = function;
}

void fail(const std::string &message, const char *file, int line)
{
    throw AssertionFailed{message, file, line};
}

void skip(const std::string &reason)
{
    throw Skipped{reason};
}

void info(const std::string &message)
{
    std::cout << "INFO   : " << currentTestName() << rowSuffix() << " " << message << std::endl;
}

Row::Row(std::string name)
{
    rowStack().push_back(std::move(name));
}

Row::~Row()
{
    // An assertion that fails inside the row throws through here; the runner names the row before it
    // unwinds further, so only a row that ends normally is popped.
    if (std::uncaught_exceptions() == 0)
        rowStack().pop_back();
}

TempDir::TempDir()
{
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/emloc-test-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        fail("could not create a temporary folder under " + pattern, __FILE__, __LINE__);
    m_path = pattern;
}

TempDir::~TempDir()
{
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot read " + path, __FILE__, __LINE__);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out)
        fail("cannot write " + path, __FILE__, __LINE__);
}

bool fileExists(const std::string &path)
{
    std::error_code ignored;
    return std::filesystem::exists(path, ignored);
}

bool startsWith(const std::string &text, const std::string &prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string &text, const std::string &suffix)
{
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

std::string tail(const std::string &text, size_t maxChars)
{
    return text.size() <= maxChars ? text : text.substr(text.size() - maxChars);
}

std::string trimmed(const std::string &text)
{
    const char *space = " \t\r\n\v\f";
    const size_t begin = text.find_first_not_of(space);
    return begin == std::string::npos ? std::string()
                                      : text.substr(begin, text.find_last_not_of(space) + 1 - begin);
}

std::string joined(const std::vector<std::string> &parts, const std::string &separator)
{
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i)
        text += (i ? separator : std::string()) + parts[i];
    return text;
}

std::string format(const char *pattern, ...)
{
    va_list args;
    va_start(args, pattern);
    va_list copy;
    va_copy(copy, args);
    const int size = std::vsnprintf(nullptr, 0, pattern, copy);
    va_end(copy);
    std::string text(size_t(std::max(size, 0)) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), pattern, args);
    va_end(args);
    text.resize(size_t(std::max(size, 0)));
    return text;
}

std::string testDataDir()
{
    return EMLOC_TEST_DATA;
}
std::string sourceDir()
{
    return EMLOC_SOURCE_DIR;
}
std::string pythonExecutable()
{
    return EMLOC_PYTHON;
}
std::string demoGgufPath()
{
    return EMLOC_DEMO_GGUF;
}
std::string cliBinary()
{
    return EMLOC_CLI_BINARY;
}
std::string referenceScript(const std::string &name)
{
    return std::string(EMLOC_TEST_SCRIPTS) + "/" + name;
}

namespace detail {

int run(int argc, char **argv)
{
    std::vector<std::string> selected(argv + 1, argv + argc);
    if (selected.size() == 1 && selected[0] == "-functions") {
        for (const auto &testCase : testCases())
            std::cout << testCase.name << "()\n";
        return 0;
    }
    for (const auto &name : selected) {
        bool known = false;
        for (const auto &testCase : testCases())
            known = known || name == testCase.name;
        if (!known) {
            std::cerr << "unknown test case '" << name << "' (-functions lists them)\n";
            return 2;
        }
    }
    const std::string suite = std::filesystem::path(argv[0]).filename().string();
    std::cout << "********* Start testing of " << suite << " *********" << std::endl;
    const auto started = std::chrono::steady_clock::now();
    int passed = 0, failed = 0, skipped = 0;
    std::string setupSkip;
    Outcome setup = suiteSetup() ? runGuarded("suiteSetup", suiteSetup(), setupSkip) : Outcome::Passed;
    if (setup == Outcome::Skipped)
        std::cout << "SKIP   : the whole suite: " << setupSkip << std::endl;
    for (const auto &testCase : testCases()) {
        if (!selected.empty() && std::find(selected.begin(), selected.end(), testCase.name) == selected.end())
            continue;
        if (setup != Outcome::Passed) {
            (setup == Outcome::Skipped ? skipped : failed) += 1;
            continue;
        }
        std::string reason;
        switch (runGuarded(testCase.name, testCase.function, reason)) {
        case Outcome::Passed:
            ++passed;
            std::cout << "PASS   : " << testCase.name << std::endl;
            break;
        case Outcome::Failed:
            ++failed;
            break;
        case Outcome::Skipped:
            ++skipped;
            std::cout << "SKIP   : " << testCase.name << " " << reason << std::endl;
            break;
        }
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::cout << "Totals: " << passed << " passed, " << failed << " failed, " << skipped << " skipped, "
              << ms.count() << "ms\n********* Finished testing of " << suite << " *********" << std::endl;
    return failed == 0 ? 0 : 1;
}

} // namespace detail

} // namespace emloc::test

int main(int argc, char **argv)
{
    return emloc::test::detail::run(argc, argv);
}
