// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/legacy_x86/huge_page_level.h"

#include <algorithm>

#include "mmu/legacy_x86/shadow_page.h"

namespace mmudiff::legacy_x86 {

bool lpage_disallowed(const x86::EptConfig& config, uint64_t gfn, unsigned level) {
  const uint64_t base = config.slot_base >> x86ept::kPageShift;
  const uint64_t npages = config.slot_size >> x86ept::kPageShift;
  const uint64_t mask = pages_at(level) - 1;
  const uint64_t hpage = gfn & ~mask;
  if ((base & mask) && hpage == (base & ~mask)) return true;
  if (npages && ((base + npages) & mask) && hpage == ((base + npages - 1) & ~mask)) return true;
  return false;
}

unsigned max_mapping_level(const x86::EptConfig& config, uint64_t gfn, unsigned max_level) {
  unsigned level = std::min<unsigned>(max_level, config.max_level);
  for (; level > x86ept::kPageLevel; --level)
    if (!lpage_disallowed(config, gfn, level)) break;
  if (level == x86ept::kPageLevel) return level;
  return std::min<unsigned>(config.host_level, level);
}

}  // namespace mmudiff::legacy_x86
