#pragma once

#include "widgets/page.h"

namespace emloc::ui {

struct Project;

// A page that edits part of the project. readFrom() never emits changed(); edits by the user do.
class ProjectPage : public Page
{
    Q_OBJECT

public:
    using Page::Page;

    virtual void readFrom(const Project &project) = 0;
    virtual void writeTo(Project &project) const = 0;
    // Empty when the page's part of the project can run; otherwise what to fix, for a person.
    virtual QString problem() const { return {}; }

Q_SIGNALS:
    void changed();
};

} // namespace emloc::ui
