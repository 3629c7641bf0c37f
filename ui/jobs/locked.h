#pragma once

#include <mutex>
#include <utility>

namespace emloc::ui {

// A value that two threads share, only ever touched under its std::mutex. Data that crosses from a
// background thread to the GUI goes through one of these (or JobFeedback), never through the captures
// or arguments of a queued Qt call: the lock that orders a posted event lives inside Qt, which
// ThreadSanitizer cannot see, so such a hand-over reads as a race (the tsan preset runs the GUI's
// worker suites); a std::mutex it sees.
template <typename T> class Locked
{
public:
    Locked() = default;
    Locked(const Locked &) = delete;
    Locked &operator=(const Locked &) = delete;
    // The value may be destroyed on another thread than the one that last used it (a worker object
    // deleted as its thread ends): taking the lock first orders the destruction after that use.
    ~Locked() { std::lock_guard<std::mutex> lock(m_mutex); }

    // Runs use(value) under the lock and returns what it returns.
    template <typename Use> auto with(Use &&use)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return std::forward<Use>(use)(m_value);
    }

    // Takes the value out, leaving a default-constructed one.
    T take()
    {
        return with([](T &value) { return std::exchange(value, T{}); });
    }

private:
    std::mutex m_mutex;
    T m_value{};
};

} // namespace emloc::ui
