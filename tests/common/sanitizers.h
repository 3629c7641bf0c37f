// Whether this build's memory readings are the product's. AddressSanitizer holds freed memory back in a
// quarantine (to catch use after free) and adds redzones and shadow memory: hundreds of MiB of RSS that
// the Release build does not have. Absolute memory bounds are asserted only without it; the suites that
// leave them out under ASan carry the ctest label `memory`, which CI runs on the Release build as well.
#pragma once

namespace emloc::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kMemoryReadingsAreTheProducts = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kMemoryReadingsAreTheProducts = false;
#else
inline constexpr bool kMemoryReadingsAreTheProducts = true;
#endif
#else
inline constexpr bool kMemoryReadingsAreTheProducts = true;
#endif

} // namespace emloc::test
