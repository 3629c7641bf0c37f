#include "stale_temporaries.h"

#include "emloc/api/parse_number.h"

#include <cerrno>
#include <csignal>
#include <filesystem>

namespace emloc::core {

void removeStaleTemporaries(const std::string &folder, const std::string &prefix)
{
    namespace fs = std::filesystem;
    std::error_code error;
    for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0)
            continue;
        const size_t dash = name.find('-', prefix.size()); // the pid ends at a dash or the name's end
        const auto pid = parseInt64(std::string_view(name).substr(
            prefix.size(), dash == std::string::npos ? std::string::npos : dash - prefix.size()));
        if (!pid || *pid <= 0)
            continue;
        if (::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH) {
            std::error_code ignored;
            fs::remove_all(it->path(), ignored);
        }
    }
}

} // namespace emloc::core
