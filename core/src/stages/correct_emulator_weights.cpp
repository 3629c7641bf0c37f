// The emulator folder of stage 1 read under the original model's names: composed into dense weights for
// the correction, or with its factors as stored for running it (evaluation).
#include "emloc/stages/correct.h"

#include "emloc/api/error.h"
#include "emloc/io/safetensors.h"

#include <filesystem>
#include <set>

namespace emloc::core {

namespace {

const std::string kWeight = ".weight";
const std::string kFactorU = ".weight_u";
const std::string kFactorV = ".weight_v";

bool endsWith(const std::string &text, const std::string &suffix)
{
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class EmulatorWeightSource : public WeightSource
{
public:
    EmulatorWeightSource(const std::string &folder, std::shared_ptr<WeightSource> original, EmulatorView view)
        : m_folder(folder), m_model(folder), m_original(std::move(original)), m_view(view)
    {
        std::set<std::string> names;
        for (const std::string &name : m_model.names()) {
            if (endsWith(name, kFactorU) || endsWith(name, kFactorV)) {
                const std::string module = name.substr(0, name.size() - kFactorU.size());
                if (!m_model.contains(module + kFactorU) || !m_model.contains(module + kFactorV))
                    throw Error("The emulator '" + folder + "' has '" + name +
                                "' without its partner factor (" + module + kFactorU + " / " + kFactorV +
                                "); rebuild the emulator.");
                m_factored.insert(module + kWeight);
                names.insert(m_view == EmulatorView::Composed ? module + kWeight : name);
            } else {
                names.insert(name);
            }
        }
        if (m_original)
            for (const std::string &name : m_original->names())
                if (!hiddenOriginal(name))
                    names.insert(name);
        m_names.assign(names.begin(), names.end());
    }

    std::vector<std::string> names() const override { return m_names; }
    bool contains(const std::string &name) const override
    {
        if (m_view == EmulatorView::Composed && m_factored.count(name))
            return true;
        return m_model.contains(name) || (m_original && !hiddenOriginal(name) && m_original->contains(name));
    }
    std::vector<int64_t> shape(const std::string &name) const override
    {
        if (m_view == EmulatorView::Composed && m_factored.count(name)) {
            const std::string module = name.substr(0, name.size() - kWeight.size());
            return {m_model.info(module + kFactorU).shape.at(0), m_model.info(module + kFactorV).shape.at(1)};
        }
        if (m_model.contains(name))
            return m_model.info(name).shape;
        return originalOrError(name).shape(name);
    }
    torch::Tensor tensor(const std::string &name) const override
    {
        if (m_view == EmulatorView::Composed && m_factored.count(name)) {
            const std::string module = name.substr(0, name.size() - kWeight.size());
            torch::Tensor u = m_model.tensor(module + kFactorU).to(torch::kFloat64);
            torch::Tensor v = m_model.tensor(module + kFactorV).to(torch::kFloat64);
            if (u.dim() != 2 || v.dim() != 2 || u.size(1) != v.size(0))
                throw Error("The emulator '" + m_folder + "' has factors of '" + module +
                            "' that do not multiply: " + c10::str(u.sizes()) + " x " + c10::str(v.sizes()) +
                            "; rebuild the emulator.");
            return u.matmul(v).to(torch::kFloat32);
        }
        if (m_model.contains(name))
            return m_model.tensor(name);
        return originalOrError(name).tensor(name);
    }

private:
    // Factored, the original's dense weight of a compressed projection must not show through: the
    // model loader would take it instead of the factors.
    bool hiddenOriginal(const std::string &name) const
    {
        return m_view == EmulatorView::Factored && m_factored.count(name) > 0;
    }
    const WeightSource &originalOrError(const std::string &name) const
    {
        if (!m_original || hiddenOriginal(name) || !m_original->contains(name))
            throw Error("The emulator '" + m_folder + "' has no tensor '" + name +
                        "' (neither dense nor as factors) and the original model has none either.");
        return *m_original;
    }

    std::string m_folder;
    SafetensorsModel m_model;
    std::shared_ptr<WeightSource> m_original;
    EmulatorView m_view;
    std::set<std::string> m_factored; // "<module>.weight" of each projection stored as factors
    std::vector<std::string> m_names;
};

} // namespace

std::shared_ptr<WeightSource> openEmulatorWeights(const std::string &emulatorDir,
                                                  std::shared_ptr<WeightSource> original, EmulatorView view)
{
    namespace fs = std::filesystem;
    std::error_code error;
    if (emulatorDir.empty() || !fs::is_directory(emulatorDir, error))
        throw Error(
            "The emulator folder '" + emulatorDir +
            "' does not exist; build it first with `emloc build-emulator` (stage 1) and pass that folder.");
    if (!fs::exists(fs::path(emulatorDir) / "model.safetensors", error) &&
        !fs::exists(fs::path(emulatorDir) / "model.safetensors.index.json", error))
        throw Error("The emulator folder '" + emulatorDir +
                    "' holds no model.safetensors: it is not a finished emulator; build it again with "
                    "`emloc build-emulator`.");
    return std::make_shared<EmulatorWeightSource>(emulatorDir, std::move(original), view);
}

} // namespace emloc::core
