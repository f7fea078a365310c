// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/linux612_tdp/linux612_spte_check.h"

#include <stdexcept>

#include "mmu/format/x86_ept.h"
#include "mmu/linux612_tdp/linux612_adapter.h"

namespace mmudiff::linux612 {

EptZeroCheck ept_shadow_zero_check(unsigned maxphyaddr, bool execonly, unsigned levels,
                                   unsigned huge_page_level) {
  if (maxphyaddr < x86ept::kMinMaxPhyAddr || maxphyaddr > x86ept::kMaxMaxPhyAddr ||
      (levels != x86ept::kMinLevels && levels != x86ept::kMaxLevels) ||
      huge_page_level < x86ept::kPageLevel || huge_page_level > x86ept::kMaxLeafLevel)
    throw std::invalid_argument("ept_shadow_zero_check: no such EPT configuration");
  EptZeroCheck check;
  uint64_t masks[2][5];
  l612_ept_zero_check(maxphyaddr, execonly, static_cast<int>(huge_page_level), masks,
                      &check.bad_mt_xwr);
  for (int large = 0; large < 2; ++large)
    for (int level = 0; level < 5; ++level)
      check.rsvd_bits_mask[large][level] = masks[large][level];
  return check;
}

bool is_rsvd_spte(const EptZeroCheck& check, uint64_t spte, unsigned level) {
  uint64_t masks[2][5];
  for (int large = 0; large < 2; ++large)
    for (int l = 0; l < 5; ++l) masks[large][l] = check.rsvd_bits_mask[large][l];
  return l612_is_rsvd_spte(masks, check.bad_mt_xwr, spte, static_cast<int>(level));
}

}  // namespace mmudiff::linux612
