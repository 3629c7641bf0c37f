// Anchors the precompiled LibTorch header that executables (CLI, test suites) reuse.
#include "pch.h"

int main()
{
    return 0;
}
