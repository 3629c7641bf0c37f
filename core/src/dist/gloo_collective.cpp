// c10d's TCP store and Gloo process group (LibTorch's own; gloo's headers from Debian's libgloo-dev).
// A heartbeat through the store lets a rank that sees an exchange fail say which rank stopped.
#define USE_C10D_GLOO 1

#include "emloc/api/error.h"
#include "emloc/dist/collective.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace emloc::core {

namespace {

using Milliseconds = std::chrono::milliseconds;
constexpr auto kHeartbeatInterval = Milliseconds(500);

std::string hostName()
{
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0)
        return "unknown host";
    return name;
}

std::string toText(const std::vector<uint8_t> &bytes)
{
    return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> toBytes(const std::string &text)
{
    return std::vector<uint8_t>(text.begin(), text.end());
}

std::string heartbeatKey(int rank)
{
    return "emloc/alive/" + std::to_string(rank);
}

// Each rank counts up its key in the store while it lives; a rank whose count stands still has stopped
// (or hangs, its process frozen).
class Heartbeat
{
public:
    Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank)
        : m_store(std::move(store)), m_key(heartbeatKey(rank)), m_thread([this] { beat(); })
    {}
    ~Heartbeat()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }

private:
    void beat()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        while (!m_stop) {
            try {
                m_store->add(m_key, 1);
            } catch (const std::exception &) {
                return; // the store is gone: the job is ending, or rank 0 stopped (an exchange will say)
            }
            m_wake.wait_for(lock, kHeartbeatInterval, [this] { return m_stop; });
        }
    }

    c10::intrusive_ptr<c10d::Store> m_store;
    std::string m_key;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

class GlooCollective final : public Collective
{
public:
    GlooCollective(const CollectiveOptions &options) : m_launch(options.launch)
    {
        m_timeout = Milliseconds(static_cast<int64_t>(options.timeoutSeconds * 1000));
        const std::string where = m_launch.masterAddress + ":" + std::to_string(m_launch.masterPort);
        try {
            c10d::TCPStoreOptions storeOptions;
            storeOptions.port = static_cast<uint16_t>(m_launch.masterPort);
            storeOptions.isServer = m_launch.rank == 0;
            storeOptions.numWorkers = m_launch.worldSize;
            storeOptions.waitWorkers = true;
            storeOptions.timeout = m_timeout;
            m_store = c10::make_intrusive<c10d::TCPStore>(m_launch.masterAddress, storeOptions);
        } catch (const std::exception &error) {
            throw Error("rank " + std::to_string(m_launch.rank) + " could not meet the other " +
                        std::to_string(m_launch.worldSize - 1) + " processes at the rendezvous " + where +
                        (m_launch.rank == 0
                             ? " (this rank opens it: is the port free? set MASTER_PORT to another)"
                             : " (rank 0 opens it: is rank 0 running, and does this machine reach "
                               "MASTER_ADDR?)") +
                        " within " + std::to_string(static_cast<int64_t>(options.timeoutSeconds)) +
                        " s: " + firstLineOf(error.what()));
        }
        try {
            auto groupOptions = c10d::ProcessGroupGloo::Options::create(m_timeout);
            if (const char *interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
                groupOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
            else if (m_launch.masterAddress == "127.0.0.1" || m_launch.masterAddress == "localhost")
                groupOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                groupOptions->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            m_group = c10::make_intrusive<c10d::ProcessGroupGloo>(
                c10::make_intrusive<c10d::PrefixStore>("emloc/gloo", m_store), m_launch.rank,
                m_launch.worldSize, groupOptions);
        } catch (const std::exception &error) {
            throw Error("rank " + std::to_string(m_launch.rank) + " could not connect to the other ranks (" +
                        where + "): " + firstLineOf(error.what()) +
                        "; on several machines, set GLOO_SOCKET_IFNAME to the network interface they share");
        }
        auto beatStore = m_store->clone();
        beatStore->setTimeout(kHeartbeatInterval * 10); // a frozen rank 0 must not hold this rank's exit
        m_heartbeat = std::make_unique<Heartbeat>(beatStore, m_launch.rank);
        m_names = allGather(hostName() + ", pid " + std::to_string(getpid()), "the start");
    }

    ~GlooCollective() override
    {
        m_heartbeat.reset();
        m_group.reset();
    }

    int rank() const override { return m_launch.rank; }
    int worldSize() const override { return m_launch.worldSize; }

    std::string describeRank(int rank) const override
    {
        std::string text = "rank " + std::to_string(rank);
        if (rank >= 0 && static_cast<size_t>(rank) < m_names.size())
            text += " (host " + m_names[static_cast<size_t>(rank)] + ")";
        return text;
    }

    void allReduceSum(const std::vector<torch::Tensor> &tensors, const std::string &what) override
    {
        guarded(what, [&] {
            for (auto &[key, group] : byKind(tensors)) {
                std::vector<torch::Tensor> flat{flatten(group)};
                m_group->allreduce(flat)->wait(m_timeout);
                unflatten(flat.front(), group);
            }
        });
    }

    std::vector<std::string> allGather(const std::string &text, const std::string &what) override
    {
        std::vector<std::string> values(static_cast<size_t>(m_launch.worldSize));
        guarded(what, [&] {
            const std::string prefix = "emloc/gather/" + std::to_string(m_sequence++) + "/";
            m_store->set(prefix + std::to_string(m_launch.rank), toBytes(text));
            for (int r = 0; r < m_launch.worldSize; ++r)
                values[static_cast<size_t>(r)] = toText(m_store->get(prefix + std::to_string(r)));
        });
        return values;
    }

    void followLeader(const std::string &what) override
    {
        const std::string key = "emloc/leader-done/" + std::to_string(m_sequence++);
        guarded(what, [&] {
            if (m_launch.rank == 0) {
                m_store->set(key, toBytes("done"));
                return;
            }
            int64_t lastBeat = -1;
            auto lastChange = std::chrono::steady_clock::now();
            while (!m_store->check({key})) {
                const int64_t beat = m_store->add(heartbeatKey(0), 0);
                const auto now = std::chrono::steady_clock::now();
                if (beat != lastBeat) {
                    lastBeat = beat;
                    lastChange = now;
                } else if (now - lastChange > std::max(m_timeout, kHeartbeatInterval * 10)) {
                    throw Error("rank 0 stopped signalling while the others waited");
                }
                std::this_thread::sleep_for(kHeartbeatInterval / 2);
            }
        });
    }

private:
    // Tensors of one device and dtype travel as one buffer.
    static std::map<std::string, std::vector<torch::Tensor>> byKind(const std::vector<torch::Tensor> &tensors)
    {
        std::map<std::string, std::vector<torch::Tensor>> groups;
        for (const auto &tensor : tensors)
            if (tensor.defined() && tensor.numel() > 0)
                groups[tensor.device().str() + std::string(c10::toString(tensor.scalar_type()))].push_back(
                    tensor);
        return groups;
    }
    static torch::Tensor flatten(const std::vector<torch::Tensor> &group)
    {
        if (group.size() == 1 && group.front().is_contiguous())
            return group.front().view({-1});
        std::vector<torch::Tensor> parts;
        for (const auto &tensor : group)
            parts.push_back(tensor.reshape({-1}));
        return torch::cat(parts);
    }
    static void unflatten(const torch::Tensor &flat, const std::vector<torch::Tensor> &group)
    {
        if (group.size() == 1 && group.front().is_contiguous())
            return; // reduced in place
        int64_t offset = 0;
        for (const auto &tensor : group) {
            tensor.copy_(flat.narrow(0, offset, tensor.numel()).view(tensor.sizes()));
            offset += tensor.numel();
        }
    }

    template <class Exchange> void guarded(const std::string &what, Exchange exchange)
    {
        try {
            exchange();
        } catch (const std::exception &error) {
            throw Error(failureMessage(what, error.what()));
        }
    }

    // Which ranks stopped: their heartbeats, read twice a few beats apart through a new connection.
    std::string failureMessage(const std::string &what, const std::string &cause)
    {
        std::string stopped;
        try {
            auto probe = m_store->clone();
            probe->setTimeout(Milliseconds(3000));
            std::vector<int64_t> before;
            for (int r = 0; r < m_launch.worldSize; ++r)
                before.push_back(probe->add(heartbeatKey(r), 0));
            std::this_thread::sleep_for(kHeartbeatInterval * 5);
            for (int r = 0; r < m_launch.worldSize; ++r)
                if (r != m_launch.rank && probe->add(heartbeatKey(r), 0) == before[static_cast<size_t>(r)])
                    stopped += (stopped.empty() ? "" : ", ") + describeRank(r);
        } catch (const std::exception &) {
            if (m_launch.rank != 0)
                stopped = describeRank(0) + ", which holds the rendezvous,";
        }
        std::ostringstream message;
        message << describeRank(m_launch.rank) << " of " << m_launch.worldSize << " stops at " << what
                << ": ";
        if (!stopped.empty())
            message << stopped << " stopped or hangs";
        else
            message << "another rank did not take part in time (all still run: one may be slower than the "
                       "timeout of "
                    << m_timeout.count() / 1000 << " s allows, or they disagree on the steps)";
        message << ". Its own output says why; the last checkpoint in the output folder stays complete. ("
                << firstLineOf(cause) << ")";
        return message.str();
    }

    ProcessLaunch m_launch;
    Milliseconds m_timeout{300000};
    c10::intrusive_ptr<c10d::Store> m_store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> m_group;
    std::unique_ptr<Heartbeat> m_heartbeat;
    std::vector<std::string> m_names;
    int64_t m_sequence = 0;
};

} // namespace

std::unique_ptr<Collective> connectCollective(const CollectiveOptions &options)
{
    if (!options.launch.distributed())
        return singleProcessCollective();
    if (!(options.timeoutSeconds > 0))
        throw Error("the timeout between processes must be positive (--timeout)");
    if (options.backend == "nccl")
        throw Error("--backend nccl is not built in yet: use gloo (the default), which also reduces CUDA "
                    "tensors, through host memory");
    if (options.backend != "auto" && options.backend != "gloo")
        throw Error("unknown --backend \"" + options.backend + "\" (accepted: auto, gloo, nccl)");
    return std::make_unique<GlooCollective>(options);
}

} // namespace emloc::core
