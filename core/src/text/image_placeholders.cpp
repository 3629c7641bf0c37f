#include "emloc/text/image_placeholders.h"

namespace emloc::core {

size_t countImagePlaceholders(const std::string &text)
{
    size_t count = 0;
    for (size_t at = text.find(kImagePlaceholder); at != std::string::npos;
         at = text.find(kImagePlaceholder, at + 1))
        ++count;
    return count;
}

std::string withImagePlaceholders(const std::string &text, size_t images)
{
    if (images == 0 || countImagePlaceholders(text) > 0)
        return text;
    if (images == 1)
        return std::string(kImagePlaceholder) + "\n" + text;
    std::string prefix;
    for (size_t i = 0; i < images; ++i)
        prefix += "Image-" + std::to_string(i + 1) + ": " + kImagePlaceholder + "\n";
    return prefix + text;
}

std::string collapseTokenRuns(const std::string &text, const std::string &token)
{
    if (token.empty())
        return text;
    std::string out;
    size_t from = 0;
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, from)) {
        out += text.substr(from, at - from);
        size_t count = 0;
        for (from = at; text.compare(from, token.size(), token) == 0; from += token.size())
            ++count;
        out += token + (count > 1 ? " x " + std::to_string(count) : std::string());
    }
    return out + text.substr(from);
}

} // namespace emloc::core
