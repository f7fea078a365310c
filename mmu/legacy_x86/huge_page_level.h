// SPDX-License-Identifier: GPL-2.0-only
// How large a leaf may be (mmu.c: kvm_mmu_max_mapping_level, lpage_info_slot and the memslot's
// disallow_lpage as kvm_alloc_memslot_metadata sets it): the smallest of the level asked for,
// the VM's huge-page level, the host's mapping level, and what the memslot's alignment allows.
#pragma once

#include <cstdint>

#include "mmu/x86/tdp_api.h"

namespace mmudiff::legacy_x86 {

// A memslot in gfns: the VM's for a fault, the range an operation is given for the others.
struct SlotRange {
  uint64_t base_gfn = 0;
  uint64_t npages = 0;
};

// The slot's disallow_lpage for the huge page of LEVEL holding gfn (gfn in the slot): set for
// the first one when the slot starts inside it and for the last one when the slot ends inside it.
bool lpage_disallowed(const SlotRange& slot, uint64_t gfn, unsigned level);

// __kvm_mmu_max_mapping_level for a gfn in the slot (no private memory).
unsigned max_mapping_level(const x86::EptConfig& config, const SlotRange& slot, uint64_t gfn,
                           unsigned max_level);

}  // namespace mmudiff::legacy_x86
