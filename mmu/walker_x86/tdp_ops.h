// SPDX-License-Identifier: GPL-2.0-only
// The TDP MMU's operations on a TdpTable, one visitor each (tdp_mmu.c's functions of the same
// name, from their observable behaviour). Arguments and results are x86::TdpApi's.
#pragma once

#include <cstdint>

#include "mmu/walker_x86/tdp_table.h"
#include "mmu/x86/tdp_api.h"

namespace mmudiff::walker_x86 {

// Stops a walk early; never returned to a caller.
inline constexpr int kStopWalk = -1000;

int tdp_fault(TdpTable& t, const x86::TdpFault& fault);
bool tdp_zap_leafs(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn);
void tdp_zap_root(TdpTable& t, bool shared);
bool tdp_wrprot_slot(TdpTable& t, const Slot& slot, unsigned min_level);
bool tdp_clear_dirty_slot(TdpTable& t, const Slot& slot);
void tdp_clear_dirty_masked(TdpTable& t, uint64_t gfn, uint64_t mask, bool wrprot);
bool tdp_age_gfn_range(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn);
bool tdp_test_age_gfn_range(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn);
// 0, or -ENOMEM when a page for a split could not be had (the splits so far stay).
int tdp_split_huge_pages(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn, unsigned target_level);
void tdp_zap_collapsible(TdpTable& t, const Slot& slot);
bool tdp_write_protect_gfn(TdpTable& t, uint64_t gfn, unsigned min_level);

}  // namespace mmudiff::walker_x86
