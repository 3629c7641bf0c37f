#include "emloc/text/model_text.h"

#include "emloc/api/error.h"
#include "emloc/api/job.h"

namespace emloc::core {

void requireTokenizer(const ModelFiles &files)
{
    if (!files.tokenizerJson.is_object() || files.tokenizerJson.empty())
        throw Error(files.path +
                    " has no tokenizer (tokenizer.json, or tokenizer metadata in the GGUF), so its text "
                    "cannot be read: add the model's tokenizer.json to the folder");
}

ModelText openModelText(const ModelFiles &files, const std::string &templateName, Feedback *feedback)
{
    requireTokenizer(files);
    ModelText text{Tokenizer::fromJson(files.tokenizerJson, files.path + " tokenizer"),
                   ChatTemplate::fromModel(files.tokenizerConfig, templateName)};
    if (feedback)
        for (const auto &warning : text.chatTemplate.warnings())
            feedback->log(LogLevel::Warning, warning);
    return text;
}

} // namespace emloc::core
