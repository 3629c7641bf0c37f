// Anchors the precompiled header that every core area reuses.
#include "pch.h"
