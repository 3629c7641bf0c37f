// The default thread count: OMP_NUM_THREADS when set, else the CPUs the process may use (affinity mask
// and cgroup CPU quota). Too many threads on a CPU quota made stage 1 seven times slower in CI.
#include "emloc/api/cpu_count.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sched.h>

#include <thread>

using namespace emloc::core;

namespace {
void writeFile(const QString &path, const QByteArray &text)
{
    QVERIFY(QDir().mkpath(QFileInfo(path).path()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}
} // namespace

class TestCpuCount : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init() { qunsetenv("OMP_NUM_THREADS"); }
    void cleanup() { qunsetenv("OMP_NUM_THREADS"); }

    void usableCpusFollowTheAffinityMask()
    {
        const int all = usableCpuCount();
        QVERIFY(all >= 1);
        QVERIFY(all <= int(std::max(1u, std::thread::hardware_concurrency())));
        cpu_set_t saved;
        QCOMPARE(sched_getaffinity(0, sizeof saved, &saved), 0);
        int first = 0;
        while (!CPU_ISSET(first, &saved))
            ++first;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(first, &one);
        QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);
        const int pinned = usableCpuCount();
        QCOMPARE(sched_setaffinity(0, sizeof saved, &saved), 0);
        QCOMPARE(pinned, 1);
    }

    void ompNumThreadsIsTheUsersWord()
    {
        qputenv("OMP_NUM_THREADS", "3");
        QCOMPARE(defaultThreadCount(), 3);
        qputenv("OMP_NUM_THREADS", "5,2"); // nested levels: the outer one is this process's
        QCOMPARE(defaultThreadCount(), 5);
        for (const char *unusable : {"", "0", "-2", "many", "4x"}) {
            qputenv("OMP_NUM_THREADS", unusable);
            QCOMPARE(defaultThreadCount(), usableCpuCount());
        }
        qunsetenv("OMP_NUM_THREADS");
        QCOMPARE(defaultThreadCount(), usableCpuCount());
    }

    void cgroupQuotasLimitTheCount()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const std::string r = root.path().toStdString();
        QCOMPARE(cgroupCpuLimit(r, ""), 0); // nothing readable: no limit
        writeFile(root.filePath("cpu.max"), "max 100000\n");
        writeFile(root.filePath("ci/cpu.max"), "150000 100000\n"); // 1.5 CPUs: two threads
        writeFile(root.filePath("ci/job/cpu.max"), "max 100000\n");
        QCOMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 2);
        QCOMPARE(cgroupCpuLimit(r, "0::/\n"), 0);
        QCOMPARE(cgroupCpuLimit(r, "12:cpu:/other\n0::/ci\n"), 2);
        writeFile(root.filePath("ci/job/cpu.max"), "400000 400000\n"); // the tighter one wins
        QCOMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 1);
        writeFile(root.filePath("ci/job/cpu.max"), "garbage\n");
        QCOMPARE(cgroupCpuLimit(r, "0::/ci/job\n"), 2);
        // cgroup v1
        QTemporaryDir v1;
        writeFile(v1.filePath("cpu/cpu.cfs_quota_us"), "300000\n");
        writeFile(v1.filePath("cpu/cpu.cfs_period_us"), "100000\n");
        QCOMPARE(cgroupCpuLimit(v1.path().toStdString(), "4:cpu,cpuacct:/\n"), 3);
        writeFile(v1.filePath("cpu/cpu.cfs_quota_us"), "-1\n");
        QCOMPARE(cgroupCpuLimit(v1.path().toStdString(), ""), 0);
    }
};

QTEST_GUILESS_MAIN(TestCpuCount)
#include "test_cpu_count.moc"
