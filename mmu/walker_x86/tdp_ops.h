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
// The masks a huge leaf's pieces are built with. Planted: the NX mitigation forgotten, so the
// 4K pieces of a huge page that could not be executable stay non-executable.
inline EptMasks split_masks(const TdpTable& t) {
  EptMasks m = t.masks();
  if (t.plant() == Plant::kWalkerX86SplitNxNotExecutable) m.nx_huge_pages = false;
  return m;
}
// 0, or -ENOMEM when a page for a split could not be had (the splits so far stay).
int tdp_split_huge_pages(TdpTable& t, uint64_t start_gfn, uint64_t end_gfn, unsigned target_level);
void tdp_zap_collapsible(TdpTable& t, const Slot& slot);
bool tdp_write_protect_gfn(TdpTable& t, uint64_t gfn, unsigned min_level);

}  // namespace mmudiff::walker_x86
