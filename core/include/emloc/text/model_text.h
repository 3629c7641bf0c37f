#pragma once

// How a model reads and writes text: its tokenizer and its chat template, opened together with the one
// error every front end gives for a model without a tokenizer.

#include "emloc/io/model_files.h"
#include "emloc/text/chat_template.h"
#include "emloc/text/tokenizer.h"

#include <memory>
#include <string>

namespace emloc::core {

class Feedback;

struct ModelText
{
    std::shared_ptr<Tokenizer> tokenizer;
    ChatTemplate chatTemplate;
};

// An Error that names the model and says what to add when `files` has no tokenizer.
void requireTokenizer(const ModelFiles &files);

// The tokenizer of `files` (tokenizer.json, or the GGUF's vocabulary) and its chat template (`templateName`:
// "auto" for the model's own, or a built-in one; chat_template.h). A model without a tokenizer is an Error
// that names it and says what to add. The template's warnings go to `feedback` when one is given.
ModelText openModelText(const ModelFiles &files, const std::string &templateName = "auto",
                        Feedback *feedback = nullptr);

} // namespace emloc::core
