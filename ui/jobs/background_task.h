#pragma once

#include "jobs/locked.h"

#include <QObject>
#include <QThread>

#include <memory>
#include <optional>
#include <utility>

namespace emloc::ui {

// Work that must stay off the GUI thread but is no job (no progress, no cancel): work() runs on a new
// thread, then done(result) on receiver's thread, or not at all if receiver is gone by then. The result
// crosses in a Locked box and QThread::finished, which carries no data, announces it. The thread object
// deletes itself when it ends; the pointer returned is for waiting on it.
template <typename Work, typename Done> QThread *runInBackground(QObject *receiver, Work work, Done done)
{
    using Result = decltype(work());
    auto box = std::make_shared<Locked<std::optional<Result>>>();
    QThread *thread = QThread::create([box, work = std::move(work)]() mutable {
        Result result = work();
        box->with([&](std::optional<Result> &slot) { slot = std::move(result); });
    });
    QObject::connect(thread, &QThread::finished, receiver, [box, done = std::move(done)]() mutable {
        if (std::optional<Result> result = box->take())
            done(std::move(*result));
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
    return thread;
}

} // namespace emloc::ui
