#pragma once
// The processes of one job talking to each other: PyTorch's c10d (a TCP store for the rendezvous, Gloo
// for tensors) behind a small interface, so the stages depend on what they exchange and not on c10d.
// Every rank calls the same operations in the same order; each is named (`what`) so that a failure says
// where the job was. Called from the job's worker thread only.

#include "emloc/api/process_launch.h"

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace emloc::core {

class Collective
{
public:
    virtual ~Collective() = default;
    virtual int rank() const = 0;
    virtual int worldSize() const = 0;
    bool leader() const { return rank() == 0; }
    // "rank 1 (host node-2, pid 4242)": how errors and logs name a rank.
    virtual std::string describeRank(int rank) const = 0;

    // Sums each tensor over the ranks, in place (they may differ in shape and dtype).
    virtual void allReduceSum(const std::vector<torch::Tensor> &tensors, const std::string &what) = 0;
    // Every rank's text, by rank.
    virtual std::vector<std::string> allGather(const std::string &text, const std::string &what) = 0;
    // Rank 0 calls it when work that it alone does is done (writing a stage's output); the other ranks wait
    // there for as long as rank 0 lives, however long that takes (its heartbeat, not the timeout, bounds
    // the wait).
    virtual void followLeader(const std::string &what) = 0;

    std::string broadcastText(const std::string &text, const std::string &what); // rank 0's
};

// Each rank's figure (its memory) carried in an exchange the step makes anyway: a tensor with `value` in
// this rank's slot and zeros elsewhere, which the all-reduce turns into every rank's value, by rank.
torch::Tensor rankSlots(const Collective &collective, double value);
std::vector<int64_t> rankSlotValues(const torch::Tensor &summed);

struct CollectiveOptions
{
    ProcessLaunch launch;
    std::string backend = "auto"; // "auto" (Gloo), "gloo"; "nccl" is refused for now, with the reason
    // How long a rank waits for the others at any exchange before it stops, naming the ranks it waited
    // for: a rank that died is noticed at once, a hung one after this.
    double timeoutSeconds = 300;
};

// The process group of `options.launch` (rank 0 starts the store, the others connect to it, all within
// the timeout); Error names the address and what to check. A world of one gets a group that does
// nothing, so callers need no second path.
std::unique_ptr<Collective> connectCollective(const CollectiveOptions &options);
std::unique_ptr<Collective> singleProcessCollective();

// `collective` or a world of one when it is null.
inline bool isLeader(const Collective *collective)
{
    return !collective || collective->leader();
}
inline int worldSizeOf(const Collective *collective)
{
    return collective ? collective->worldSize() : 1;
}
inline int rankOf(const Collective *collective)
{
    return collective ? collective->rank() : 0;
}

} // namespace emloc::core
