#pragma once
// Where images stand in a prompt's text: the "<image>" placeholder InternVL's data and chat code use
// (a vision-language model expands each into its image's tokens; vision/image_prompt.h).

#include <cstddef>
#include <string>

namespace emloc::core {

constexpr const char *kImagePlaceholder = "<image>";

size_t countImagePlaceholders(const std::string &text);

// The text with a placeholder for each image, as InternVL's chat() and its multi-image examples write
// it when the user wrote none: "<image>\n" before a single image's question, "Image-1: <image>\n..." one
// line per image before a question about several. Text that already holds placeholders is returned as is.
std::string withImagePlaceholders(const std::string &text, size_t images);

// Each run of `token` in the text shown once, with its count: an image's hundreds of context tokens
// read as "<IMG_CONTEXT> x 256".
std::string collapseTokenRuns(const std::string &text, const std::string &token);

} // namespace emloc::core
