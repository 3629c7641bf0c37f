#include "emloc/util/engine_job.h"

#include "emloc/api/error.h"

#include <c10/util/Exception.h>

#include <string>
#include <utility>

namespace emloc::core {

std::function<void(Feedback &)> engineJob(std::function<void(Feedback &)> body)
{
    return [body = std::move(body)](Feedback &feedback) {
        try {
            body(feedback);
        } catch (const c10::OutOfMemoryError &e) {
            throw Error("Out of memory: " + firstLineOf(e.what_without_backtrace()) +
                        ". Lower the batch size or sequence length, enable gradient checkpointing, or "
                        "choose a lower compression ratio.");
        } catch (const c10::Error &e) {
            throw Error("Internal tensor error: " + firstLineOf(e.what_without_backtrace()));
        }
    };
}

} // namespace emloc::core
