// `emloc devices`: what this machine can compute on, and with how much memory.
#include "cli_context.h"

#include "emloc/util/memory.h"
#include "emloc/util/torch_runtime.h"

#include <cstdio>

namespace emloc::cli {

void registerSystemCommands(CLI::App &app, CliContext &context)
{
    auto *devices = app.add_subcommand("devices", "List the CPU and CUDA devices with total and free memory");
    devices->callback([&context] {
        runCommand(context, [&context](core::Feedback &, CommandOutput &output) {
            auto list = core::listDevices();
            auto info = core::buildInfo();
            if (context.json) {
                nlohmann::json out = {
                    {"emloc", info.emlocVersion},         {"libtorch", info.libtorchVersion},
                    {"cuda_compiled", info.cudaCompiled}, {"cuda_version", info.cudaVersion},
                    {"threads", core::threadCount()},     {"devices", nlohmann::json::array()}};
                for (const auto &device : list)
                    out["devices"].push_back({{"id", device.id},
                                              {"name", device.name},
                                              {"total_bytes", device.totalBytes},
                                              {"free_bytes", device.freeBytes}});
                output.setJson(out);
                return;
            }
            output.printf("%-8s %-36s %12s %12s\n", "id", "name", "total", "free");
            for (const auto &device : list)
                output.printf("%-8s %-36s %12s %12s\n", device.id.c_str(), device.name.c_str(),
                              core::formatBytes(device.totalBytes).c_str(),
                              core::formatBytes(device.freeBytes).c_str());
            output.printf("\nLibTorch %s, CUDA %s, %d CPU threads\n", info.libtorchVersion.c_str(),
                          info.cudaCompiled ? info.cudaVersion.c_str() : "not compiled", core::threadCount());
        });
    });
}

} // namespace emloc::cli
