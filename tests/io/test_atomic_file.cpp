// AtomicFile: a file appears at its path only on commit, whole, and an existing one stays intact
// until then; failures leave neither a partial file nor a temporary behind.
#include "emloc/api/error.h"
#include "emloc/io/atomic_file.h"
#include "emloc/io/staging_folder.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace emloc::core;

namespace {
QStringList entriesOf(const QString &folder)
{
    return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot | QDir::System);
}

std::string pathIn(const QTemporaryDir &dir, const char *name)
{
    return dir.filePath(QString::fromUtf8(name)).toStdString();
}

// Calls `body`, which must throw Error, and returns its message.
template <typename Body> QString errorOf(Body body)
{
    try {
        body();
    } catch (const Error &e) {
        return QString::fromStdString(e.what());
    }
    return QString();
}
} // namespace

class TestAtomicFile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void commitWritesTheWholeFile()
    {
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "out.bin");
        {
            AtomicFile file(path);
            file.write("hello ");
            const char binary[] = {'\0', '\x01', '\xff'};
            file.write(binary, sizeof binary);
            // Before commit only the hidden temporary exists, beside the destination.
            QVERIFY(!QFile::exists(QString::fromStdString(path)));
            const QStringList entries = entriesOf(dir.path());
            QCOMPARE(entries.size(), 1);
            QVERIFY(entries.front().startsWith(".out.bin.tmp-"));
            file.commit();
        }
        QCOMPARE(readTextFile(path), std::string("hello \0\x01\xff", 9));
        QCOMPARE(entriesOf(dir.path()), QStringList{"out.bin"});
    }

    void withoutCommitNothingIsLeft()
    {
        QTemporaryDir dir;
        {
            AtomicFile file(pathIn(dir, "never.txt"));
            file.write("partial");
        }
        QVERIFY(entriesOf(dir.path()).isEmpty());
    }

    void replacesAnExistingFileOnlyOnCommit()
    {
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "config.json");
        writeFileAtomically(path, "old");
        try {
            AtomicFile file(path);
            file.write("new but interrupted");
            throw std::runtime_error("simulated crash in the writer");
        } catch (const std::runtime_error &) {
        }
        QCOMPARE(readTextFile(path), std::string("old"));
        {
            AtomicFile file(path);
            file.write("new");
            QCOMPARE(readTextFile(path), std::string("old"));
            file.commit();
        }
        QCOMPARE(readTextFile(path), std::string("new"));
        QCOMPARE(entriesOf(dir.path()), QStringList{"config.json"});
    }

    void concurrentWritersUseDistinctTemporaries()
    {
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "same.txt");
        AtomicFile first(path);
        AtomicFile second(path);
        first.write("first");
        second.write("second");
        QCOMPARE(entriesOf(dir.path()).size(), 2);
        first.commit();
        second.commit();
        QCOMPARE(readTextFile(path), std::string("second"));
        QCOMPARE(entriesOf(dir.path()), QStringList{"same.txt"});
    }

    void largeContentRoundTrips()
    {
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "large.bin");
        std::string content(3 * 1024 * 1024 + 17, '\0');
        for (size_t i = 0; i < content.size(); ++i)
            content[i] = static_cast<char>((i * 2654435761u) >> 13);
        writeFileAtomically(path, content);
        QVERIFY(readTextFile(path) == content);
    }

    void missingFolderIsAnError()
    {
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "no/such/folder/out.txt");
        const QString message = errorOf([&] { AtomicFile file(path); });
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        QVERIFY2(message.contains("does not exist"), qPrintable(message));
    }

    void unwritableFolderIsAnError()
    {
        // /proc refuses new files even for root.
        const QString procMessage = errorOf([] { AtomicFile file("/proc/emloc-test-output.txt"); });
        QVERIFY2(procMessage.contains("/proc/emloc-test-output.txt"), qPrintable(procMessage));
        QVERIFY2(procMessage.contains("writable"), qPrintable(procMessage));

        if (::geteuid() == 0)
            return; // root writes into read-only folders; /proc covered the case above
        QTemporaryDir dir;
        const QString readOnly = dir.filePath("read-only");
        QVERIFY(QDir().mkdir(readOnly));
        QVERIFY(::chmod(readOnly.toUtf8().constData(), 0555) == 0);
        const std::string path = (readOnly + "/out.txt").toStdString();
        const QString message = errorOf([&] { writeFileAtomically(path, "x"); });
        ::chmod(readOnly.toUtf8().constData(), 0755);
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
    }

    void folderAsDestinationIsAnError()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir("sub"));
        const QString message = errorOf([&] { AtomicFile file(pathIn(dir, "sub")); });
        QVERIFY2(message.contains("folder"), qPrintable(message));
    }

    void failedWriteKeepsTheOldFile()
    {
        // A file-size limit makes the write fail the way a full disk does (short write, errno set).
        QTemporaryDir dir;
        const std::string path = pathIn(dir, "model.safetensors");
        writeFileAtomically(path, "previous version");
        rlimit original{};
        QVERIFY(::getrlimit(RLIMIT_FSIZE, &original) == 0);
        rlimit limited = original;
        limited.rlim_cur = 64 * 1024;
        auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
        QVERIFY(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
        const QString message = errorOf([&] {
            AtomicFile file(path);
            const std::string chunk(1024 * 1024, 'x');
            file.write(chunk);
            file.commit();
        });
        ::setrlimit(RLIMIT_FSIZE, &original);
        std::signal(SIGXFSZ, previousHandler);
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        QVERIFY2(message.contains("nothing was changed"), qPrintable(message));
        QCOMPARE(readTextFile(path), std::string("previous version"));
        QCOMPARE(entriesOf(dir.path()), QStringList{"model.safetensors"});
    }

    // What a killed writer left (a hidden temporary, a staging folder, a folder moved aside) goes when the
    // same destination is written again; what a live writer (this process) has in flight stays.
    void leftoversOfAKilledWriterAreRemoved()
    {
        const pid_t child = ::fork();
        if (child == 0)
            ::_exit(0);
        QVERIFY(child > 0);
        int status = 0;
        QVERIFY(::waitpid(child, &status, 0) == child); // `child` names a process that is gone now
        const QString dead = QString::number(child);
        const QString live = QString::number(::getpid());

        QTemporaryDir dir;
        auto touch = [&](const QString &name) {
            QFile file(dir.filePath(name));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("left over");
        };
        touch(".model.safetensors.tmp-" + dead + "-0");
        touch(".model.safetensors.tmp-" + live + "-7");
        touch(".other.json.tmp-" + dead + "-0");
        writeFileAtomically(pathIn(dir, "model.safetensors"), "new");
        QCOMPARE(entriesOf(dir.path()), (QStringList{".model.safetensors.tmp-" + live + "-7",
                                                     ".other.json.tmp-" + dead + "-0", "model.safetensors"}));

        QVERIFY(QDir(dir.path()).mkpath("adapter.partial-" + dead + "-abc123/inner"));
        QVERIFY(QDir(dir.path()).mkpath("adapter.old-" + dead + "-0"));
        QVERIFY(QDir(dir.path()).mkpath("adapter.partial-" + live + "-def456"));
        {
            StagingFolder staging(pathIn(dir, "adapter"), false);
            writeFileAtomically(staging.file("adapter_config.json"), "{}");
            staging.commit();
        }
        const QStringList folders = QDir(dir.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(folders, (QStringList{"adapter", "adapter.partial-" + live + "-def456"}));
    }

    // What the product writes gets the user's umask, as mkdir and touch would give: a staging folder made
    // private (mkdtemp's 0700) would stay private once renamed into place.
    void foldersAndFilesFollowTheUmask()
    {
        for (const mode_t mask : {mode_t(022), mode_t(077), mode_t(002)}) {
            QTemporaryDir dir;
            const mode_t previous = ::umask(mask);
            {
                StagingFolder staging(pathIn(dir, "adapter"), false);
                writeFileAtomically(staging.file("adapter_config.json"), "{}");
                staging.commit();
            }
            ::umask(previous);
            struct stat folder
            {};
            struct stat file
            {};
            QVERIFY(::stat(pathIn(dir, "adapter").c_str(), &folder) == 0);
            QVERIFY(::stat(pathIn(dir, "adapter/adapter_config.json").c_str(), &file) == 0);
            QCOMPARE(folder.st_mode & 07777, 0777 & ~mask);
            QCOMPARE(file.st_mode & 07777, 0666 & ~mask);
        }
    }

    void readTextFileErrorsNameThePath()
    {
        QTemporaryDir dir;
        const std::string missing = pathIn(dir, "missing.json");
        QString message = errorOf([&] { readTextFile(missing); });
        QVERIFY2(message.contains(QString::fromStdString(missing)) && message.contains("does not exist"),
                 qPrintable(message));

        message = errorOf([&] { readTextFile(dir.path().toStdString()); });
        QVERIFY2(message.contains(dir.path()) && message.contains("folder"), qPrintable(message));

        if (::geteuid() != 0) {
            const std::string locked = pathIn(dir, "locked.json");
            writeFileAtomically(locked, "{}");
            QVERIFY(::chmod(locked.c_str(), 0) == 0);
            message = errorOf([&] { readTextFile(locked); });
            QVERIFY2(message.contains(QString::fromStdString(locked)), qPrintable(message));
        }
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "test_atomic_file.moc"
