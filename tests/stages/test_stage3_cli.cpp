// `emloc correct` and `emloc export` end to end: JSON output, exit codes, and the files they leave.
#include "stage3_test_util.h"

#include "emloc/io/peft_adapter.h"

#include "child_process.h"
#include "unit_test.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <sys/stat.h>

using namespace emloc;
using namespace emloc::test;

namespace {
// model/, emulator/ and adapter/ under `root`: a small Llama, its emulator and a LoRA trained on it.
core::ModelConfig writeModelEmulatorAndAdapter(const std::string &root)
{
    core::ModelConfig config = smallConfig("llama");
    auto weights = randomWeights(config, 31);
    writeModelFolder(root + "/model", config, *weights);
    writeEmulatorFolder(root + "/emulator", config, *weights, 6);
    core::writePeftAdapter(randomAdapter(*weights, allModules(config), 4, 8.0, 2), root + "/adapter");
    return config;
}

// `value` in octal, as a mode is written.
std::string octal(unsigned value)
{
    std::ostringstream out;
    out << std::oct << value;
    return out.str();
}
} // namespace

TEST_CASE(correctAndExport)
{
    TempDir dir;
    const std::string root = dir.path();
    const core::ModelConfig config = writeModelEmulatorAndAdapter(root);
    const std::string &r = root;

    auto correct = runCli({"--json", "correct", "--model", r + "/model", "--emulator", r + "/emulator",
                           "--adapter", r + "/adapter", "--out", r + "/corrected", "--clamp", "2.5"});
    VERIFY2(correct.exitCode == 0, correct.err);
    const nlohmann::json report = nlohmann::json::parse(correct.out);
    COMPARE(report["module_count"].get<int64_t>(), int64_t(7 * config.numLayers));
    COMPARE(report["clamp_limit"].get<double>(), 2.5);
    VERIFY(std::filesystem::exists(root + "/corrected/correction_report.json"));

    // --clamp and --no-clamp exclude each other: a usage error.
    auto both = runCli({"correct", "--model", r + "/model", "--emulator", r + "/emulator", "--adapter",
                        r + "/adapter", "--out", r + "/x", "--clamp", "2", "--no-clamp"});
    COMPARE(both.exitCode, 2);

    // A missing emulator: exit 1 and a message naming it; nothing written.
    auto missing = runCli({"correct", "--model", r + "/model", "--emulator", r + "/nowhere", "--adapter",
                           r + "/adapter", "--out", r + "/y"});
    COMPARE(missing.exitCode, 1);
    VERIFY2(contains(missing.err, "nowhere"), missing.err);
    VERIFY(!std::filesystem::exists(root + "/y"));

    auto exported = runCli({"--json", "export", "--model", r + "/model", "--adapter", r + "/corrected",
                            "--format", "gguf-lora", "--out", r + "/lora.gguf"});
    VERIFY2(exported.exitCode == 0, exported.err);
    const nlohmann::json result = nlohmann::json::parse(exported.out);
    COMPARE(result["format"].get<std::string>(), std::string("gguf-lora"));
    VERIFY(result["bytes"].get<int64_t>() > 0);

    auto peft = runCli({"export", "--model", r + "/model", "--adapter", r + "/corrected", "--format", "peft",
                        "--out", r + "/peft"});
    VERIFY2(peft.exitCode == 0, peft.err);
    core::PeftAdapter a = core::readPeftAdapter(root + "/corrected");
    core::PeftAdapter b = core::readPeftAdapter(root + "/peft");
    COMPARE(a.modules.size(), b.modules.size());

    // An adapter for another model: exit 1, no output file.
    core::ModelConfig other = config;
    other.intermediateSize = 64;
    auto otherWeights = randomWeights(other, 4);
    core::writePeftAdapter(randomAdapter(*otherWeights, allModules(other), 4, 8.0, 2), root + "/wrong");
    auto wrong = runCli({"export", "--model", r + "/model", "--adapter", r + "/wrong", "--format",
                         "gguf-lora", "--out", r + "/wrong.gguf"});
    COMPARE(wrong.exitCode, 1);
    VERIFY2(contains(wrong.err, "another model"), wrong.err);
    VERIFY(!std::filesystem::exists(root + "/wrong.gguf"));
}

// The corrected adapter and the exported folders get the user's umask (0777 & ~umask for folders,
// 0666 & ~umask for files), whatever way they were staged.
TEST_CASE(outputsFollowTheUmask)
{
    TempDir dir;
    const std::string root = dir.path();
    writeModelEmulatorAndAdapter(root);
    const std::string &r = root;
    for (const mode_t mask : {mode_t(022), mode_t(077)}) {
        const std::string tag = octal(mask);
        const mode_t previous = ::umask(mask); // the child processes inherit it
        auto correct = runCli({"-q", "correct", "--model", r + "/model", "--emulator", r + "/emulator",
                               "--adapter", r + "/adapter", "--out", r + "/corrected-" + tag});
        auto peft = runCli({"-q", "export", "--model", r + "/model", "--adapter", r + "/adapter", "--format",
                            "peft", "--out", r + "/peft-" + tag});
        auto merged = runCli({"-q", "export", "--model", r + "/model", "--adapter", r + "/adapter",
                              "--format", "merged", "--out", r + "/merged-" + tag});
        ::umask(previous);
        for (const auto &result : {correct, peft, merged})
            VERIFY2(result.exitCode == 0, result.err);
        for (const std::string &name : {"corrected-" + tag, "peft-" + tag, "merged-" + tag}) {
            const std::filesystem::path folder = root + "/" + name;
            struct stat info
            {};
            VERIFY(::stat(folder.c_str(), &info) == 0);
            VERIFY2((info.st_mode & 07777) == (0777 & ~mask), name + " is " + octal(info.st_mode & 07777));
            for (const auto &entry : std::filesystem::directory_iterator(folder)) {
                VERIFY(::stat(entry.path().c_str(), &info) == 0);
                VERIFY2((info.st_mode & 07777) == (0666 & ~mask),
                        entry.path().string() + " is " + octal(info.st_mode & 07777));
            }
        }
    }
}
