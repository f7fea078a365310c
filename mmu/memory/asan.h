// SPDX-License-Identifier: GPL-2.0-only
// MMUDIFF_ASAN is defined when AddressSanitizer instruments this translation unit (g++ and clang
// announce it differently).
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMUDIFF_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(MMUDIFF_ASAN)
#define MMUDIFF_ASAN 1
#endif
