// SPDX-License-Identifier: GPL-2.0-only
// The kernel's own reserved-bit check of EPT SPTEs, for the oracles and the Z3 cross-check:
// Linux 6.12's __reset_rsvds_bits_mask_ept (mmu.c, lifted at build time) computes the
// shadow_zero_check, and spte.h's is_rsvd_spte() applies it, both compiled unmodified.
#pragma once

#include <array>
#include <cstdint>

namespace mmudiff::linux612 {

struct EptZeroCheck {
  // [bit 7 of the SPTE][level - 1]: the bits that must be zero (struct rsvd_bits_validate).
  std::array<std::array<uint64_t, 5>, 2> rsvd_bits_mask{};
  // Bit n set: an SPTE whose bits 5:0 (memory type, XWR) equal n is reserved.
  uint64_t bad_mt_xwr = 0;

  bool operator==(const EptZeroCheck&) const = default;
};

// The mask for a CPU with this MAXPHYADDR (36..52), execute-only support and largest huge page
// level (1..3). KVM's TDP MMU checks its own SPTEs with execonly = false
// (reset_tdp_shadow_zero_bits_mask); nested EPT uses the CPU's capability. The EPT masks do not
// depend on the number of levels: `levels` (4 or 5) is validated and otherwise changes nothing,
// as in the kernel, which fills all five levels.
EptZeroCheck ept_shadow_zero_check(unsigned maxphyaddr, bool execonly, unsigned levels,
                                   unsigned huge_page_level);

// is_rsvd_spte(check, spte, level): true when the SPTE at LEVEL (1..5) has a reserved bit set or
// a reserved memory type / XWR combination. A level outside 1..5 is reserved too.
bool is_rsvd_spte(const EptZeroCheck& check, uint64_t spte, unsigned level);

}  // namespace mmudiff::linux612
