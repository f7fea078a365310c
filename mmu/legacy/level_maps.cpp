// SPDX-License-Identifier: GPL-2.0-only
// The per-level map functions. Each finds (or creates) the table for its level through the hash
// table and installs one descriptor there; what is in the way decides how.
#include <cerrno>

#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

// A 1 GiB block.
int LegacyBackend::map_level1_block(uint64_t ipa, uint64_t desc, Memcache* mc) {
  ShadowPage* table = mmu_.table_for(ipa, 1, mc);
  if (!table) return -ENOMEM;
  return install_block(*table, table_index(ipa, 1), ipa, desc);
}

// A 2 MiB block.
int LegacyBackend::map_level2_block(uint64_t ipa, uint64_t desc, Memcache* mc) {
  ShadowPage* table = mmu_.table_for(ipa, 2, mc);
  if (!table) return -ENOMEM;
  return install_block(*table, table_index(ipa, 2), ipa, desc);
}

// A 4 KiB page: nothing can be below it.
int LegacyBackend::map_level3_page(uint64_t ipa, uint64_t desc, Memcache* mc) {
  ShadowPage* table = mmu_.table_for(ipa, kLastLevel, mc);
  if (!table) return -ENOMEM;
  return install_leaf(*table, table_index(ipa, kLastLevel), ipa, desc);
}

// A block goes over a table or over whatever else is there.
int LegacyBackend::install_block(ShadowPage& table, unsigned index, uint64_t ipa, uint64_t desc) {
  if (is_table(table.entries[index], table.level())) {
    replace_table_with_block(table, index, desc);
    return 0;
  }
  return install_leaf(table, index, ipa, desc);
}

// Over an empty entry, an owner annotation or a leaf. Re-creating a mapping, or changing only
// its permissions, is refused with -EAGAIN: the vCPU faults again and relax_perms does it.
int LegacyBackend::install_leaf(ShadowPage& table, unsigned index, uint64_t ipa, uint64_t desc) {
  const Generation& generation = mmu_.generation();
  uint64_t old = table.entries[index];
  if (same_mapping_but_permissions(old, desc)) return -EAGAIN;
  // Nothing the hardware translates with changes: no TLB can hold a stale copy, no memory needs
  // cleaning.
  // A shared walk (KVM_PGTABLE_WALK_SHARED) never stores in place: other walkers may race.
  if (generation.store_software_bits_in_place && !(map_walk_flags_ & walk_flag::kShared) &&
      only_software_bits_differ(old, desc)) {
    mmu_.write_entry(table, index, desc);
    return 0;
  }
  mmu_.break_before_make(table, index, ipa);
  // Planted: a valid leaf, once broken, is never made again: the entry stays locked (6.12's
  // KVM_INVALID_PTE_LOCKED), the mapping gone, and every later walk of it sees a lock no walker
  // holds.
  if (mmu_.plant() == Plant::kLegacy612LockedLeftLocked && is_valid(old) &&
      generation.break_value == kLockedPte) [[unlikely]]
    return 0;
  // Planted: a leaf that moves to another PA skips its cache maintenance, as if the memory had
  // been cleaned when it was first mapped.
  bool moved = is_valid(old) && output_pa(old, mmu_.layout()) != output_pa(desc, mmu_.layout());
  if (!(moved && mmu_.plant() == Plant::kLegacyNoCleanOnRemap))
    mmu_.clean_caches_before_install(desc, table.level());
  mmu_.write_entry(table, index, desc);
  return 0;
}

// A block over a table: rather than invalidate every leaf below one by one, cut the table off,
// flush the whole VMID once, and throw the subtree away once the block is in.
void LegacyBackend::replace_table_with_block(ShadowPage& table, unsigned index, uint64_t desc) {
  ShadowPage* subtree = mmu_.find_table(table.entry_ipa(index), table.level() + 1);
  mmu_.break_before_make(table, index, table.entry_ipa(index));
  ZapList zap = mmu_.start_zap();
  if (subtree) zap.prepare(*subtree);
  mmu_.clean_caches_before_install(desc, table.level());
  mmu_.write_entry(table, index, desc);
  zap.commit();
}

}  // namespace mmudiff::legacy
