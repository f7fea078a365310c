// SPDX-License-Identifier: GPL-2.0-only
// How a stage-2 leaf's attributes follow from the caller's protection bits and from FWB.
#pragma once

#include <cstdint>
#include <optional>

#include "mmu/format/arm64_s2.h"
#include "mmu/walker/descriptor_ops.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

inline constexpr Pte kS2Perms = arm64s2::kS2apR | arm64s2::kS2apW | arm64s2::kXn;

// The leaf attributes map installs for prot, or nothing when prot asks for executable device
// memory, which the architecture does not allow a guest to have (nor, with normal_nc, executable
// or device non-cacheable memory).
inline constexpr std::optional<Pte> leaf_attrs_for_prot(uint64_t prot, bool fwb, bool lpa2,
                                                        bool normal_nc = false) {
  const LeafAttrs<IntegerBits> a = build_leaf_attrs(kIntegerBits, prot, fwb, lpa2, normal_nc);
  if (!a.allowed) return std::nullopt;
  return a.attr;
}

// Only normal cacheable memory goes through the data cache; device and non-cacheable memory need
// no maintenance. The test is on the MemAttr field alone, so an owner annotation's bits can read
// as device but never as normal.
inline constexpr bool pte_cacheable(Pte pte, bool fwb) {
  return (pte & arm64s2::kMemAttrMask) == memattr_field(arm64s2::mem_attr_normal(fwb));
}

}  // namespace mmudiff::walker
