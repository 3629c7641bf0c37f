#pragma once

#include <QStringList>

namespace emloc::ui {

// The devices a project's "device" names, one id each ("cuda:0,1" -> cuda:0, cuda:1; "cpu" -> cpu); empty
// when the text names none this build knows (the job itself then says what is wrong).
QStringList deviceIds(const QString &device);

} // namespace emloc::ui
