// SPDX-License-Identifier: GPL-2.0-only
// wrprotect, mkyoung, mkold, is_young and relax_perms: set and clear attribute bits of valid
// leaves in place. A whole block changes at once; nothing is broken or reallocated, because the
// output address and shape stay the same. What each operation does to a descriptor is in
// descriptor_ops.h, where models/ proves it.
#include <cerrno>

#include "mmu/walker/attributes.h"
#include "mmu/walker/descriptor_ops.h"
#include "mmu/walker/marked_access.h"
#include "mmu/walker/stage2.h"
#include "mmu/walker/walk.h"

namespace mmudiff::walker {

namespace {

// The last valid leaf the walk changed (or would have), before the change.
struct LeafAttrUpdate {
  int ret = 0;
  Pte old_pte = 0;
  unsigned level = 0;  // 0 when no valid leaf was found
};

// purpose: mkyoung and relax_perms are the fault handler's; in 6.12 an invalid entry ends their
// walk with -EAGAIN, while every other walk goes on past it, and they are shared walks
// (marked_access.h): the change is a swap against what the walk read, -EAGAIN when it is lost.
LeafAttrUpdate update_leaf_attrs(Stage2PageTable& pgt, uint64_t addr, uint64_t size,
                                 const AttrChange<IntegerBits>& change,
                                 WalkFor purpose = WalkFor::Caller) {
  const Generation& gen = pgt.generation();
  const int not_valid = gen.invalid_leaf_is_eagain ? -EAGAIN : 0;
  const bool shared = gen.fault_walks_are_shared && purpose == WalkFor::FaultHandler;
  LeafAttrUpdate found;
  SharedWalkSection section(shared, pgt.plant);
  found.ret = walk(
      pgt, addr, size, Visit::Leaf,
      [&](const VisitedEntry& e) {
        // 6.12 decides from what the walk read (on a shared walk the entry may have changed).
        const Pte old = gen.marks_descriptor_accesses ? e.old : *e.ptep;
        if (!pte_valid(old)) return not_valid;
        found.old_pte = old;
        found.level = e.level;
        const Pte next = apply_attr_change(kIntegerBits, old, change);
        if (next == old) return 0;
        // Instructions fetched through a newly executable mapping must not come from stale lines.
        if (pte_executable(next) && !pte_executable(old)) {
          pgt.mm.icache_inval_pou(pte_to_phys(next, pgt.lpa2()), arm64s2::granule_size(e.level));
        }
        // Racing with the hardware setting AF is harmless: at worst AF is set again on next
        // access.
        if (!gen.marks_descriptor_accesses) {
          pgt.mmu.write_pte(e.ptep, next);
          return 0;
        }
        // Another walker changed the entry since it was read: the fault is retried.
        if (try_set_pte(pgt, e, next, shared)) return 0;
        // Planted: the swap is tried again against what the entry holds now, but with the value
        // computed from the stale one: the other walker's change is undone.
        if (pgt.plant == Plant::kWalker612RetryStaleOld) [[unlikely]] {
          VisitedEntry again = e;
          read_once_point(pgt.mm, e.ptep);
          again.old = *e.ptep;
          return try_set_pte(pgt, again, next, shared) ? 0 : -EAGAIN;
        }
        return -EAGAIN;
      },
      purpose);
  return found;
}

// 6.12's test_clear_young WARNs when its walk fails: the caller asked about a page beyond the
// IPA space.
void warn_if_aging_failed(Stage2PageTable& pgt, const LeafAttrUpdate& u) {
  if (u.ret && pgt.generation().aging_warns_on_walk_error)
    pgt.warnings.push_back("WARN_ON: test_clear_young walk failed");
}

}  // namespace

int stage2_wrprotect(Stage2PageTable& pgt, uint64_t addr, uint64_t size) {
  return update_leaf_attrs(pgt, addr, size, wrprotect_change(kIntegerBits, pgt.plant)).ret;
}

Pte stage2_mkyoung(Stage2PageTable& pgt, uint64_t addr) {
  const LeafAttrUpdate u =
      update_leaf_attrs(pgt, addr, 1, mkyoung_change(kIntegerBits), WalkFor::FaultHandler);
  if (!u.ret || !pgt.generation().mkyoung_barrier_only_on_success) pgt.mmu.dsb_ishst();
  return u.ret ? 0 : u.old_pte;
}

// No TLB invalidation: the caller's MMU notifier does it when it wants one.
Pte stage2_mkold(Stage2PageTable& pgt, uint64_t addr) {
  const LeafAttrUpdate u = update_leaf_attrs(pgt, addr, 1, mkold_change(kIntegerBits));
  warn_if_aging_failed(pgt, u);
  return u.ret ? 0 : u.old_pte;
}

bool stage2_is_young(Stage2PageTable& pgt, uint64_t addr) {
  const LeafAttrUpdate u = update_leaf_attrs(pgt, addr, 1, AttrChange<IntegerBits>{0, 0});
  warn_if_aging_failed(pgt, u);
  return !u.ret && (u.old_pte & arm64s2::kAf);
}

// Each valid leaf with its access flag set makes the answer "young"; with mkold the flag is
// cleared in place. An invalid entry is no leaf to age, and not an error: aging is no fault.
int stage2_test_clear_young(Stage2PageTable& pgt, uint64_t addr, uint64_t size, bool mkold) {
  if (!pgt.generation().ages_ranges) return -EOPNOTSUPP;
  bool young = false;
  const AttrChange<IntegerBits> make_old = mkold_change(kIntegerBits);
  const int ret = walk(pgt, addr, size, Visit::Leaf, [&](const VisitedEntry& e) {
    const Pte old = e.old;
    if (!pte_valid(old) || !(old & arm64s2::kAf)) return 0;
    young = true;
    // No TLBI: the MMU notifier that asked flushes. The walk holds the table alone (the MMU
    // lock for writing), so the store cannot lose.
    if (mkold) write_once(pgt, e.ptep, apply_attr_change(kIntegerBits, old, make_old));
    return 0;
  });
  warn_if_aging_failed(pgt, LeafAttrUpdate{.ret = ret});
  return young ? 1 : 0;
}

// Only ever adds permissions: R and W are set, XN is cleared, nothing is taken away.
int stage2_relax_perms(Stage2PageTable& pgt, uint64_t addr, uint64_t prot) {
  if (relax_perms_refuses(kIntegerBits, prot)) return -EINVAL;
  const LeafAttrUpdate u = update_leaf_attrs(
      pgt, addr, 1, relax_perms_change(kIntegerBits, prot, pgt.plant), WalkFor::FaultHandler);
  const bool flush_anyway = u.ret == -EAGAIN && pgt.generation().relax_flushes_on_eagain;
  if (u.ret && !flush_anyway) return u.ret;
  // The TLB may hold the stricter permissions. Invalidated even when nothing changed or
  // nothing was found (level 0 then: any level). 6.12 invalidates on this CPU only (the
  // non-broadcast TLBI, which the effect log does not tell apart). Planted: without it the vCPU
  // faults again on the same address for as long as the old entry stays cached.
  // A walk that ended with -EAGAIN may have found a leaf and lost its swap: the level is then
  // unknown as well (TLBI_TTL_UNKNOWN).
  if (pgt.plant != Plant::kWalkerRelaxNoFlush)
    pgt.mmu.tlb_flush_ipa(addr, u.ret == -EAGAIN ? 0 : u.level);
  return u.ret;
}

}  // namespace mmudiff::walker
