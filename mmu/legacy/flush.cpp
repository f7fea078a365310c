// SPDX-License-Identifier: GPL-2.0-only
// flush: clean and invalidate to the point of coherency the memory behind every cacheable leaf in
// the range, found through the reverse maps. With FWB the hardware keeps stage-2 mappings coherent
// and there is nothing to do -- not even a range check.
#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

int LegacyBackend::flush(uint64_t addr, uint64_t size) {
  if (mmu_.fwb()) return 0;
  IpaRange range;
  if (int ret = walk_range(addr, size, &range)) return ret;
  mmu_.rmap().for_each_overlapping(range.start, range.end, [&](const LeafRef& leaf) {
    uint64_t desc = leaf.descriptor();
    if (mem_attr_is_normal(desc, false))
      mmu_.effects().dcache_clean_inval(output_pa(desc, mmu_.layout()), granule_size(leaf.level()));
  });
  return 0;
}

}  // namespace mmudiff::legacy
