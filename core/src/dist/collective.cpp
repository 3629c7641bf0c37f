#include "emloc/dist/collective.h"

namespace emloc::core {

std::string Collective::broadcastText(const std::string &text, const std::string &what)
{
    if (worldSize() == 1)
        return text;
    return allGather(leader() ? text : std::string(), what).front();
}

torch::Tensor rankSlots(const Collective &collective, double value)
{
    auto slots = torch::zeros({collective.worldSize()}, torch::kFloat64);
    slots[collective.rank()] = value;
    return slots;
}

std::vector<int64_t> rankSlotValues(const torch::Tensor &summed)
{
    std::vector<int64_t> values;
    const auto accessor = summed.accessor<double, 1>();
    for (int64_t r = 0; r < summed.size(0); ++r)
        values.push_back(static_cast<int64_t>(accessor[r]));
    return values;
}

namespace {

class SingleProcess final : public Collective
{
public:
    int rank() const override { return 0; }
    int worldSize() const override { return 1; }
    std::string describeRank(int) const override { return "the only process"; }
    void allReduceSum(const std::vector<torch::Tensor> &, const std::string &) override {}
    std::vector<std::string> allGather(const std::string &text, const std::string &) override
    {
        return {text};
    }
    void followLeader(const std::string &) override {}
};

} // namespace

std::unique_ptr<Collective> singleProcessCollective()
{
    return std::make_unique<SingleProcess>();
}

} // namespace emloc::core
