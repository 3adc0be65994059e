// Whether this build runs under a sanitizer, for the few tests that scale
// their work down there (a sanitized build runs several times slower) or
// measure something a sanitizer owns (the heap). GCC says so with
// __SANITIZE_*__, Clang with __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define WORKBOOK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKBOOK_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define WORKBOOK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WORKBOOK_TSAN 1
#endif
#endif

#if defined(WORKBOOK_ASAN) || defined(WORKBOOK_TSAN)
#define WORKBOOK_SANITIZED 1
#endif

namespace workbook {

#if defined(WORKBOOK_SANITIZED)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

#if defined(WORKBOOK_TSAN)
inline constexpr bool thread_sanitized = true;
#else
inline constexpr bool thread_sanitized = false;
#endif

} // namespace workbook
