// SPDX-License-Identifier: GPL-2.0-only
// How large a leaf may be (mmu.c: kvm_mmu_max_mapping_level, lpage_info_slot and the memslot's
// disallow_lpage as kvm_alloc_memslot_metadata sets it): the smallest of the level asked for,
// the VM's huge-page level, the host's mapping level, and what the memslot's alignment allows.
#pragma once

#include <cstdint>

#include "mmu/x86/tdp_api.h"

namespace mmudiff::legacy_x86 {

// The memslot's disallow_lpage for the huge page of LEVEL holding gfn (gfn in the slot): set
// for the first one when the slot starts inside it and for the last one when the slot ends
// inside it.
bool lpage_disallowed(const x86::EptConfig& config, uint64_t gfn, unsigned level);

// __kvm_mmu_max_mapping_level for a gfn in the memslot (no private memory).
unsigned max_mapping_level(const x86::EptConfig& config, uint64_t gfn, unsigned max_level);

}  // namespace mmudiff::legacy_x86
