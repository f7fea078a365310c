// SPDX-License-Identifier: GPL-2.0-only
// How a stage-2 leaf's attributes follow from the caller's protection bits and from FWB.
#pragma once

#include <cstdint>
#include <optional>

#include "mmu/format/arm64_s2.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

inline constexpr Pte kS2Perms = arm64s2::kS2apR | arm64s2::kS2apW | arm64s2::kXn;

inline constexpr Pte memattr_field(uint64_t memattr) {
  return memattr << arm64s2::kMemAttrShift;
}

// The leaf attributes map installs for prot, or nothing when prot asks for executable device
// memory, which the architecture does not allow a guest to have.
inline constexpr std::optional<Pte> leaf_attrs_for_prot(uint64_t prot, bool fwb) {
  const bool device = prot & arm64s2::prot::kDevice;
  Pte attr = memattr_field(device ? arm64s2::mem_attr_device(fwb) : arm64s2::mem_attr_normal(fwb));
  if (!(prot & arm64s2::prot::kX)) {
    attr |= arm64s2::kXn;
  } else if (device) {
    return std::nullopt;
  }
  if (prot & arm64s2::prot::kR) attr |= arm64s2::kS2apR;
  if (prot & arm64s2::prot::kW) attr |= arm64s2::kS2apW;
  attr |= arm64s2::kShInner << arm64s2::kShShift;
  attr |= arm64s2::kAf;
  attr |= prot & arm64s2::prot::kSwMask;
  return attr;
}

// Only normal memory goes through the data cache; device memory needs no maintenance. The test
// is on the MemAttr field alone, so an owner annotation's bits can read as device but never as
// normal.
inline constexpr bool pte_cacheable(Pte pte, bool fwb) {
  return (pte & arm64s2::kMemAttrMask) == memattr_field(arm64s2::mem_attr_normal(fwb));
}

}  // namespace mmudiff::walker
