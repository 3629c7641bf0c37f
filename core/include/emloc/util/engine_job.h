#pragma once

#include "emloc/api/job.h"

#include <functional>

namespace emloc::core {

// A job that runs tensor code, for runJob: LibTorch's exceptions leave it as the engine's Error with a
// person's message (an out-of-memory says what to lower; any other tensor error is its first line,
// without the C++ backtrace). runJob is torch-free (the Studio's widgets run jobs without LibTorch), so
// the front ends wrap the engine's jobs in this.
std::function<void(Feedback &)> engineJob(std::function<void(Feedback &)> body);

} // namespace emloc::core
