// SPDX-License-Identifier: GPL-2.0-only
// How an x86 fault operation (OpKind::Fault) carries a kvm_page_fault's flags in Op::prot.
#pragma once

#include <cstdint>

namespace mmudiff::x86 {

inline constexpr uint64_t kFaultWrite = 1 << 0;         // fault->write
inline constexpr uint64_t kFaultExec = 1 << 1;          // fault->exec
inline constexpr uint64_t kFaultPrefetch = 1 << 2;      // fault->prefetch
inline constexpr uint64_t kFaultHostReadOnly = 1 << 3;  // !fault->map_writable
inline constexpr uint64_t kFaultDirtyLogging = 1 << 4;  // the slot logs dirty pages
inline constexpr uint64_t kFaultFlagsMask = 0x1f;

}  // namespace mmudiff::x86
