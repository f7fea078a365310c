// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/huge_page_level.h"

#include <algorithm>

#include "mmu/legacy_x86/shadow_page.h"

namespace mmudiff::legacy_x86 {

bool lpage_disallowed(const SlotRange& slot, uint64_t gfn, unsigned level) {
  const uint64_t mask = pages_at(level) - 1;
  const uint64_t hpage = gfn & ~mask;
  if ((slot.base_gfn & mask) && hpage == (slot.base_gfn & ~mask)) return true;
  const uint64_t end = slot.base_gfn + slot.npages;
  return slot.npages && (end & mask) && hpage == ((end - 1) & ~mask);
}

unsigned max_mapping_level(const x86::EptConfig& config, const SlotRange& slot, uint64_t gfn,
                           unsigned max_level) {
  unsigned level = std::min<unsigned>(max_level, config.max_level);
  for (; level > x86ept::kPageLevel; --level)
    if (!lpage_disallowed(slot, gfn, level)) break;
  if (level == x86ept::kPageLevel) return level;
  return std::min<unsigned>(config.host_level, level);
}

}  // namespace mmudiff::legacy_x86
