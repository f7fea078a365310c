// SPDX-License-Identifier: GPL-2.0-only
// Randomised tests run fewer streams under ASan+UBSan, which is several times slower: the
// sanitizers' value is in the kinds of operation covered, not in the count.
#pragma once

#include <cstddef>

namespace mmudiff::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

inline size_t sanitizer_scaled(size_t n) {
  return kSanitized ? n / 5 : n;
}

}  // namespace mmudiff::testing
