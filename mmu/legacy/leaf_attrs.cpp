// SPDX-License-Identifier: GPL-2.0-only
// Write-protect, aging and permission relaxing: in-place updates of valid leaves, found through
// the reverse maps. Whole blocks change at once and nothing goes through break-before-make, since
// only permission and access-flag bits move. The updates themselves are in descriptor_ops.h,
// where models/ proves them.
#include <cerrno>

#include <fmt/format.h>

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
    if (seen) *seen = {old, leaf.level(), true};
    if (updated == old) return;
    // Newly executable memory must not run stale instructions.
    if (is_executable(updated) && !is_executable(old))
      mmu_.effects().icache_inval(output_pa(updated, mmu_.layout()), granule_size(leaf.level()));
    mmu_.write_entry(*leaf.table, leaf.index, updated);
  });
  return 0;
}

int LegacyBackend::wrprotect(uint64_t addr, uint64_t size) {
  const LeafUpdate<Integers> u = wrprotect_update(kIntegers, mmu_.plant());
  return update_leaf_attrs(addr, size, u.set, u.clear, nullptr);
}

// The fault path's update of one page. 6.12 fails it with -EAGAIN when no valid leaf maps the
// page (the fault raced with an unmap: the vCPU retries); 6.1 calls that success.
int LegacyBackend::update_faulting_page(uint64_t addr, const LeafUpdate<Integers>& update,
                                        LeafSeen* seen) {
  int ret = update_leaf_attrs(addr, 1, update.set, update.clear, seen);
  if (!ret && !seen->found && mmu_.generation().fault_updates_need_a_leaf) return -EAGAIN;
  return ret;
}

// The barrier makes the new access flag visible to the table walker; 6.12 issues it only when a
// leaf was updated.
uint64_t LegacyBackend::mkyoung(uint64_t addr) {
  LeafSeen seen;
  int ret = update_faulting_page(addr, mkyoung_update(kIntegers), &seen);
  if (!ret || !mmu_.generation().fault_updates_need_a_leaf) mmu_.effects().dsb(Barrier::IshSt);
  return seen.pte;
}

// No TLBI: the caller (KVM's clear_flush_young) invalidates.
uint64_t LegacyBackend::mkold(uint64_t addr) {
  const LeafUpdate<Integers> u = mkold_update(kIntegers);
  LeafSeen seen;
  note_aging_walk(update_leaf_attrs(addr, 1, u.set, u.clear, &seen), addr);
  return seen.pte;
}

bool LegacyBackend::is_young(uint64_t addr) {
  LeafSeen seen;
  note_aging_walk(update_leaf_attrs(addr, 1, 0, 0, &seen), addr);
  return seen.pte & kAf;
}

// 6.12's range aging: the answer is whether any valid leaf overlapping the range was young; with
// mkold each young one is made old in place, in address order. No TLBI, as for mkold.
int LegacyBackend::test_clear_young(uint64_t addr, uint64_t size, bool mkold) {
  if (!mmu_.generation().ages_ranges) return -EOPNOTSUPP;
  IpaRange range;
  const int ret = walk_range(addr, size, &range);
  note_aging_walk(ret, addr);
  if (ret) return 0;
  bool young = false;
  const LeafUpdate<Integers> make_old = mkold_update(kIntegers);
  mmu_.rmap().for_each_overlapping(range.start, range.end, [&](const LeafRef& leaf) {
    const uint64_t d = leaf.descriptor();
    if (!(d & kAf)) return;
    young = true;
    if (mkold) mmu_.write_entry(*leaf.table, leaf.index, apply_leaf_update(kIntegers, d, make_old));
  });
  return young ? 1 : 0;
}

// 6.12's test_clear_young WARNs when its walk fails: aging a page that is not in the table's IPA
// space (or with no table) is the caller's bug.
void LegacyBackend::note_aging_walk(int ret, uint64_t addr) {
  if (ret && mmu_.generation().aging_warns_on_failed_walk)
    warnings_.push_back(fmt::format("test_clear_young({:#x}): walk failed with {}", addr, ret));
}

// Only ever adds access: R, W, or X by clearing XN. The TLBI goes out even when no leaf was there
// (at level 0, "any level"): the fault that asked for it may have raced with an unmap. (6.12's
// is the non-broadcast TLBI of the faulting CPU, which the effect log records the same way.)
int LegacyBackend::relax_perms(uint64_t addr, uint64_t prot_bits) {
  if (relax_refuses(kIntegers, prot_bits)) return -EINVAL;
  LeafSeen seen;
  int ret = update_faulting_page(addr, relax_update(kIntegers, prot_bits), &seen);
  if (!ret || ret == -EAGAIN) mmu_.effects().tlbi_ipa(addr, seen.level);
  return ret;
}

}  // namespace mmudiff::legacy
