// SPDX-License-Identifier: GPL-2.0-only
// Write-protect, aging and permission relaxing: in-place updates of valid leaves, found through
// the reverse maps. Whole blocks change at once and nothing goes through break-before-make, since
// only permission and access-flag bits move. The updates themselves are in descriptor_ops.h,
// where models/ proves them.
#include <cerrno>

#include "mmu/legacy/descriptor_ops.h"
#include "mmu/legacy/descriptors.h"
#include "mmu/legacy/legacy_backend.h"

namespace mmudiff::legacy {

int LegacyBackend::update_leaf_attrs(uint64_t addr, uint64_t size, uint64_t set, uint64_t clear,
                                     LeafSeen* seen) {
  IpaRange range;
  if (int ret = walk_range(addr, size, &range)) return ret;
  const LeafUpdate<Integers> update{set, clear};
  mmu_.rmap().for_each_overlapping(range.start, range.end, [&](const LeafRef& leaf) {
    uint64_t old = leaf.descriptor();
    uint64_t updated = apply_leaf_update(kIntegers, old, update);
    if (seen) *seen = {old, leaf.level()};
    if (updated == old) return;
    // Newly executable memory must not run stale instructions.
    if (is_executable(updated) && !is_executable(old))
      mmu_.effects().icache_inval(output_pa(updated), granule_size(leaf.level()));
    mmu_.write_entry(*leaf.table, leaf.index, updated);
  });
  return 0;
}

int LegacyBackend::wrprotect(uint64_t addr, uint64_t size) {
  const LeafUpdate<Integers> u = wrprotect_update(kIntegers, mmu_.plant());
  return update_leaf_attrs(addr, size, u.set, u.clear, nullptr);
}

uint64_t LegacyBackend::mkyoung(uint64_t addr) {
  const LeafUpdate<Integers> u = mkyoung_update(kIntegers);
  LeafSeen seen;
  update_leaf_attrs(addr, 1, u.set, u.clear, &seen);
  mmu_.effects().dsb(Barrier::IshSt);
  return seen.pte;
}

// No TLBI: the caller (KVM's clear_flush_young) invalidates.
uint64_t LegacyBackend::mkold(uint64_t addr) {
  const LeafUpdate<Integers> u = mkold_update(kIntegers);
  LeafSeen seen;
  update_leaf_attrs(addr, 1, u.set, u.clear, &seen);
  return seen.pte;
}

bool LegacyBackend::is_young(uint64_t addr) {
  LeafSeen seen;
  update_leaf_attrs(addr, 1, 0, 0, &seen);
  return seen.pte & kAf;
}

// Only ever adds access: R, W, or X by clearing XN. The TLBI goes out even when no leaf was there
// (at level 0, "any level"): the fault that asked for it may have raced with an unmap.
int LegacyBackend::relax_perms(uint64_t addr, uint64_t prot_bits) {
  if (relax_refuses(kIntegers, prot_bits)) return -EINVAL;
  const LeafUpdate<Integers> u = relax_update(kIntegers, prot_bits);
  LeafSeen seen;
  int ret = update_leaf_attrs(addr, 1, u.set, u.clear, &seen);
  if (!ret) mmu_.effects().tlbi_ipa(addr, seen.level);
  return ret;
}

}  // namespace mmudiff::legacy
