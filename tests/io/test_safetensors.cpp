// The safetensors reader and writer on their own: round trips of every dtype, and the strict checks
// that turn each kind of corrupt or truncated file into an Error naming the file (and the tensor).
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/safetensors.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

using namespace emloc::core;

namespace {
template <typename Body> QString errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return QString::fromStdString(e.what());
    }
    return QString();
}

// A file from a raw header text and `dataBytes` bytes of data, bypassing our writer's checks.
void writeRaw(const std::string &path, const std::string &header, size_t dataBytes, uint64_t declaredSize = 0)
{
    const uint64_t size = declaredSize ? declaredSize : header.size();
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[i] = static_cast<char>(size >> (8 * i));
    bytes += header;
    bytes.append(dataBytes, '\x11');
    writeFileAtomically(path, bytes);
}

std::vector<std::pair<std::string, torch::Tensor>> allDtypes()
{
    torch::manual_seed(7);
    const torch::Tensor base = torch::randn({3, 5});
    return {
        {"a.f32", base},
        {"b.f16", base.to(torch::kFloat16)},
        {"c.bf16", base.to(torch::kBFloat16)},
        {"d.f64", base.to(torch::kFloat64) / 3.0},
        {"e.i64", torch::tensor({int64_t(-(1LL << 62)), int64_t(0), int64_t((1LL << 53) + 1)})},
        {"f.i32", torch::tensor({-5, 7, 1 << 30}, torch::kInt32)},
        {"g.i16", torch::tensor({-32768, 1, 32767}, torch::kInt16)},
        {"h.i8", torch::tensor({-128, 0, 127}, torch::kInt8)},
        {"i.u8", torch::tensor({0, 128, 255}, torch::kUInt8)},
        {"j.bool", torch::tensor({true, false, true})},
        {"k.transposed", base.t()}, // not contiguous
        {"l.empty", torch::zeros({0, 4})},
        {"m.scalar", torch::tensor(1.5)},
    };
}
} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTripsEveryDtype()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("all.safetensors").toStdString();
        const auto tensors = allDtypes();
        writeSafetensors(path, tensors, {{"format", "pt"}, {"by", "emloc"}});

        SafetensorsFile file(path);
        const std::vector<std::string> names = file.names();
        QCOMPARE(names.size(), tensors.size());
        QVERIFY(std::is_sorted(names.begin(), names.end()));
        QCOMPARE(file.metadata().at("by"), std::string("emloc"));
        for (const auto &[name, expected] : tensors) {
            const torch::Tensor got = file.tensor(name);
            QVERIFY2(got.scalar_type() == expected.scalar_type(), name.c_str());
            QVERIFY2(got.sizes() == expected.sizes(), name.c_str());
            QVERIFY2(torch::equal(got, expected), name.c_str());
            // Widest dtypes are laid out first, so every tensor is aligned to its element size.
            QCOMPARE(file.info(name).begin % static_cast<uint64_t>(expected.element_size()), uint64_t(0));
        }
        QCOMPARE(file.info("b.f16").dtype, std::string("F16"));
        QCOMPARE(file.info("k.transposed").shape, (std::vector<int64_t>{5, 3}));

        // The data section starts 8-byte aligned: the header is padded with spaces.
        QFile raw(QString::fromStdString(path));
        QVERIFY(raw.open(QIODevice::ReadOnly));
        const QByteArray head = raw.read(8);
        uint64_t headerSize = 0;
        std::memcpy(&headerSize, head.constData(), 8);
        QCOMPARE(headerSize % 8, uint64_t(0));
    }

    void tensorsOwnTheirMemory()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("own.safetensors").toStdString();
        writeSafetensors(path, {{"x", torch::arange(10, torch::kFloat32)}});
        torch::Tensor kept;
        {
            SafetensorsFile file(path);
            kept = file.tensor("x");
        }
        // The mapping is gone; the tensor must still be readable and writable.
        kept.add_(1);
        QVERIFY(torch::equal(kept, torch::arange(1, 11, torch::kFloat32)));
    }

    void writerRejectsBadInput()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("bad.safetensors").toStdString();
        QString message = errorOf([&] {
            writeSafetensors(path, {{"x", torch::ones(2)}, {"x", torch::ones(2)}});
        });
        QVERIFY2(message.contains("appears twice"), qPrintable(message));
        message = errorOf([&] { writeSafetensors(path, {{"c", torch::ones(2, torch::kComplexFloat)}}); });
        QVERIFY2(message.contains("'c'") && message.contains(QString::fromStdString(path)),
                 qPrintable(message));
        QVERIFY(!QFile::exists(QString::fromStdString(path)));
    }

    void corruptFilesAreErrorsNamingTheFile_data()
    {
        QTest::addColumn<QString>("header");
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<qulonglong>("declaredSize");
        QTest::addColumn<QString>("expected"); // a phrase of the message besides the file name

        const QString f32 = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
        QTest::newRow("truncated data") << f32 << 12 << 0ull << "'w'";
        QTest::newRow("header length too large") << f32 << 16 << 1000ull << "truncated";
        QTest::newRow("absurd header length") << f32 << 16 << (1ull << 40) << "not plausible";
        QTest::newRow("bad json") << R"({"w":{"dtype":)" << 0 << 0ull << "not valid JSON";
        QTest::newRow("not an object") << "[1,2,3]" << 0 << 0ull << "not a JSON object";
        QTest::newRow("unknown dtype") << R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})" << 8
                                       << 0ull << "unknown dtype 'F12'";
        QTest::newRow("shape vs bytes") << R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})"
                                        << 16 << 0ull << "needs 16 bytes";
        QTest::newRow("negative dim")
            << R"({"w":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})" << 8 << 0ull << "non-negative";
        QTest::newRow("missing dtype") << R"({"w":{"shape":[2],"data_offsets":[0,8]}})" << 8 << 0ull << "'w'";
        QTest::newRow("end before begin")
            << R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})" << 8 << 0ull << "end before";
        QTest::newRow("offset outside the file")
            << R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})" << 8 << 0ull << "past the end";
        QTest::newRow("overlapping offsets") << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"
                                             << 12 << 0ull << "overlap";
        QTest::newRow("metadata not strings")
            << R"({"__metadata__":{"n":1},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})" << 1 << 0ull
            << "__metadata__";
    }

    void corruptFilesAreErrorsNamingTheFile()
    {
        QFETCH(QString, header);
        QFETCH(int, dataBytes);
        QFETCH(qulonglong, declaredSize);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::string path = dir.filePath("broken.safetensors").toStdString();
        writeRaw(path, header.toStdString(), static_cast<size_t>(dataBytes), declaredSize);
        const QString message = errorOf([&] { SafetensorsFile file(path); });
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void tooShortAndTruncatedFiles()
    {
        QTemporaryDir dir;
        const std::string tiny = dir.filePath("tiny.safetensors").toStdString();
        writeFileAtomically(tiny, "abc");
        QString message = errorOf([&] { SafetensorsFile file(tiny); });
        QVERIFY2(message.contains(QString::fromStdString(tiny)) && message.contains("too short"),
                 qPrintable(message));

        // A real file cut short, as an interrupted copy leaves it.
        const std::string full = dir.filePath("full.safetensors").toStdString();
        writeSafetensors(full, {{"big", torch::ones({64, 64})}, {"small", torch::ones({4})}});
        std::string bytes = readTextFile(full);
        const std::string cut = dir.filePath("cut.safetensors").toStdString();
        writeFileAtomically(cut, bytes.substr(0, bytes.size() - 100));
        message = errorOf([&] { SafetensorsFile file(cut); });
        QVERIFY2(message.contains(QString::fromStdString(cut)) && message.contains("truncated"),
                 qPrintable(message));
        QVERIFY2(message.contains("'big'") || message.contains("'small'"), qPrintable(message));

        const QString missing =
            errorOf([&] { SafetensorsFile file(dir.filePath("none.safetensors").toStdString()); });
        QVERIFY2(missing.contains("none.safetensors") && missing.contains("does not exist"),
                 qPrintable(missing));
    }

    void modelFolderSingleAndSharded()
    {
        QTemporaryDir dir;
        const std::string single = dir.filePath("single").toStdString();
        QDir().mkdir(QString::fromStdString(single));
        writeSafetensors(single + "/model.safetensors",
                         {{"a", torch::ones({2, 3})}, {"b", torch::zeros({4})}});
        SafetensorsModel fromFolder(single);
        QCOMPARE(fromFolder.names(), (std::vector<std::string>{"a", "b"}));
        QCOMPARE(fromFolder.totalBytes(), uint64_t(40));
        SafetensorsModel fromFile(single + "/model.safetensors");
        QVERIFY(torch::equal(fromFile.tensor("a"), torch::ones({2, 3})));

        const std::string sharded = dir.filePath("sharded").toStdString();
        QDir().mkdir(QString::fromStdString(sharded));
        writeSafetensors(sharded + "/part-1.safetensors", {{"x", torch::arange(6).reshape({2, 3})}});
        writeSafetensors(sharded + "/part-2.safetensors", {{"y", torch::full({3}, 2.5)}});
        writeFileAtomically(
            sharded + "/model.safetensors.index.json",
            R"({"metadata":{},"weight_map":{"x":"part-1.safetensors","y":"part-2.safetensors"}})");
        SafetensorsModel model(sharded);
        QVERIFY(model.contains("y") && !model.contains("z"));
        QCOMPARE(model.info("x").shape, (std::vector<int64_t>{2, 3}));
        QVERIFY(torch::equal(model.tensor("y"), torch::full({3}, 2.5)));
        QString message = errorOf([&] { model.tensor("z"); });
        QVERIFY2(message.contains("'z'") && message.contains(QString::fromStdString(sharded)),
                 qPrintable(message));

        // Concurrent first reads of the lazily opened shards.
        SafetensorsModel concurrent(sharded);
        std::vector<std::thread> threads;
        std::atomic<int> good{0};
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                if (torch::equal(concurrent.tensor(i % 2 ? "x" : "y"),
                                 i % 2 ? torch::arange(6).reshape({2, 3}) : torch::full({3}, 2.5)))
                    ++good;
            });
        for (std::thread &thread : threads)
            thread.join();
        QCOMPARE(good.load(), 8);

        // An index that places a tensor in a shard that lacks it.
        writeFileAtomically(sharded + "/model.safetensors.index.json",
                            R"({"weight_map":{"x":"part-2.safetensors","y":"part-2.safetensors"}})");
        SafetensorsModel mismatched(sharded);
        message = errorOf([&] { mismatched.tensor("x"); });
        QVERIFY2(message.contains("part-2.safetensors") && message.contains("'x'"), qPrintable(message));
    }

    void missingShardAndMissingWeights()
    {
        QTemporaryDir dir;
        const std::string folder = dir.path().toStdString();
        writeSafetensors(folder + "/model-00001-of-00002.safetensors", {{"x", torch::ones(2)}});
        const std::string index = folder + "/model.safetensors.index.json";
        writeFileAtomically(index, R"({"weight_map":{"x":"model-00001-of-00002.safetensors",)"
                                   R"("y":"model-00002-of-00002.safetensors"}})");
        QString message = errorOf([&] { SafetensorsModel model(folder); });
        QVERIFY2(message.contains(QString::fromStdString(index)), qPrintable(message));
        QVERIFY2(message.contains("model-00002-of-00002.safetensors"), qPrintable(message));

        writeFileAtomically(index, R"({"weight_map": 3})");
        message = errorOf([&] { SafetensorsModel model(folder); });
        QVERIFY2(message.contains(QString::fromStdString(index)) && message.contains("weight_map"),
                 qPrintable(message));

        QTemporaryDir empty;
        message = errorOf([&] { SafetensorsModel model(empty.path().toStdString()); });
        QVERIFY2(message.contains(empty.path()) && message.contains("model.safetensors"),
                 qPrintable(message));
    }

    void readsLazilyAndFast()
    {
        // 64 tensors of 1 MiB: opening touches only the header, reading one tensor only its bytes.
        QTemporaryDir dir;
        const std::string path = dir.filePath("many.safetensors").toStdString();
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (int i = 0; i < 64; ++i)
            tensors.emplace_back("t" + std::to_string(100 + i), torch::full({256, 1024}, float(i)));
        QElapsedTimer timer;
        timer.start();
        writeSafetensors(path, tensors);
        const qint64 writeMs = timer.restart();
        SafetensorsFile file(path);
        const qint64 openNs = timer.nsecsElapsed();
        timer.restart();
        const torch::Tensor t = file.tensor("t137");
        const qint64 readNs = timer.nsecsElapsed();
        QCOMPARE(t.sum().item<double>(), 37.0 * 256 * 1024);
        timer.restart();
        for (const std::string &name : file.names())
            file.tensor(name);
        const qint64 allMs = timer.elapsed();
        qInfo("write 64 MiB: %lld ms; open: %.3f ms; one 1 MiB tensor: %.3f ms; all 64 MiB: %lld ms", writeMs,
              openNs / 1e6, readNs / 1e6, allMs);
        QVERIFY2(openNs < 50'000'000, "opening must not read the data");
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
