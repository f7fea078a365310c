// SPDX-License-Identifier: GPL-2.0-only
// Stage-2 descriptors as values: what a descriptor is, and how the walker builds one. Pure
// arithmetic on the shared bit layout; reading and writing table memory happens elsewhere.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"
#include "mmu/plants.h"
#include "mmu/walker/descriptor_ops.h"

namespace mmudiff::walker {

using Pte = uint64_t;

// Output addresses at or above the PA size cannot be mapped; map treats them as "no address".
inline constexpr uint64_t kPhysInvalid = ~uint64_t{0};
inline constexpr bool phys_is_valid(uint64_t pa, bool lpa2) {
  return phys_in_pa_range(kIntegerBits, pa, lpa2);
}

inline constexpr bool pte_valid(Pte pte) {
  return pte & arm64s2::kValid;
}

// The last level has no tables: its type bit means "page".
inline constexpr bool pte_is_table(Pte pte, unsigned level) {
  return level != arm64s2::kLastLevel && pte_valid(pte) && (pte & arm64s2::kTypeBit);
}

// What 6.12's break-before-make leaves in an entry between the old value and the new one
// (KVM_INVALID_PTE_LOCKED): invalid, so the hardware walker faults on it, and told apart from an
// empty entry so that a concurrent walk does not take the entry for free.
inline constexpr Pte kLockedPte = arm64s2::bit(10);
inline constexpr bool pte_is_locked(Pte pte) {
  return !pte_valid(pte) && (pte & kLockedPte);
}

// Table pages count valid entries and owner annotations alike, so only an all-zero entry is
// free: that is what lets a page be recognised as empty from its count alone.
inline constexpr bool pte_is_counted(Pte pte) {
  return pte != 0;
}

inline constexpr bool pte_executable(Pte pte) {
  return !(pte & arm64s2::kXn);
}

// The address a leaf or table descriptor holds; with FEAT_LPA2 (lpa2) bits 9:8 are PA[51:50].
inline constexpr uint64_t pte_to_phys(Pte pte, bool lpa2) {
  if (!lpa2) return pte & arm64s2::kOaMask;
  const uint64_t high = (pte & arm64s2::kOaHighMaskLpa2) >> arm64s2::kOaHighShiftLpa2;
  return (pte & arm64s2::kOaMaskLpa2) | (high << arm64s2::kOaHighFirstBitLpa2);
}

// The descriptors themselves are built in descriptor_ops.h, where models/ proves them.
inline constexpr Pte make_table_pte(uint64_t child_pa, bool lpa2) {
  return build_table_pte(kIntegerBits, child_pa, lpa2);
}

// attr may carry anything; only the leaf attribute fields reach the descriptor.
inline constexpr Pte make_leaf_pte(uint64_t pa, Pte attr, unsigned level, Plant plant, bool lpa2) {
  return build_leaf_pte(kIntegerBits, pa, attr, level, plant, lpa2);
}

// Owner 0 is the table's owner and so encodes as an empty entry.
inline constexpr Pte make_owner_pte(uint8_t owner_id) {
  return build_owner_pte(kIntegerBits, Pte{owner_id});
}

inline constexpr uint64_t align_down(uint64_t value, uint64_t granule) {
  return value & ~(granule - 1);
}
inline constexpr bool is_aligned(uint64_t value, uint64_t granule) {
  return (value & (granule - 1)) == 0;
}

}  // namespace mmudiff::walker
