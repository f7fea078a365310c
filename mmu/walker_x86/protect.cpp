// SPDX-License-Identifier: GPL-2.0-only
// Write protection and dirty-state clearing for dirty logging: over a slot
// (kvm_tdp_mmu_wrprot_slot, kvm_tdp_mmu_clear_dirty_slot), over up to 64 pages of a bitmap
// (kvm_tdp_mmu_clear_dirty_pt_masked) and for one gfn (kvm_tdp_mmu_write_protect_gfn).
#include <bit>

#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff::walker_x86 {

namespace {

constexpr walker::IntegerBits kBits{};

bool present_leaf(Pte spte, unsigned level) {
  return spte_present(kBits, spte) && spte_last(kBits, spte, level);
}

// Without A/D bits, "dirty" is "writable": clearing it means write-protecting.
uint64_t dirty_bit(const TdpTable& t, bool wrprot) {
  return wrprot || !t.config().ad ? ept::kWrite : ept::kDirty;
}

}  // namespace

bool tdp_wrprot_slot(TdpTable& t, const Slot& slot, unsigned min_level) {
  if (!t.live()) return false;
  bool changed = false;
  t.walk(slot.base_gfn, slot.base_gfn + slot.npages, min_level, [&](const walker::VisitedEntry& e) {
    const Pte old = *e.ptep;
    if (!present_leaf(old, e.level) || !(old & ept::kWrite)) return 0;
    t.set_spte(e.ptep, old & ~ept::kWrite, TdpTable::entry_gfn(e), e.level, true);
    changed = true;
    return 0;
  });
  t.leave();
  return changed;
}

bool tdp_clear_dirty_slot(TdpTable& t, const Slot& slot) {
  if (!t.live()) return false;
  const uint64_t dbit = dirty_bit(t, false);
  bool changed = false;
  t.walk(slot.base_gfn, slot.base_gfn + slot.npages, ept::kPageLevel,
         [&](const walker::VisitedEntry& e) {
           const Pte old = *e.ptep;
           if (!present_leaf(old, e.level) || !(old & dbit)) return 0;
           t.set_spte(e.ptep, old & ~dbit, TdpTable::entry_gfn(e), e.level, true);
           changed = true;
           return 0;
         });
  t.leave();
  return changed;
}

// Only 4 KiB leaves whose bit is set in MASK (bit i: gfn + i); the walk ends with the last bit.
void tdp_clear_dirty_masked(TdpTable& t, uint64_t gfn, uint64_t mask, bool wrprot) {
  if (!t.live() || mask == 0) return;
  const uint64_t dbit = dirty_bit(t, wrprot);
  t.walk(gfn + std::countr_zero(mask), gfn + 64, ept::kPageLevel,
         [&](const walker::VisitedEntry& e) {
           const Pte old = *e.ptep;
           if (!present_leaf(old, e.level)) return 0;
           if (!mask) return kStopWalk;
           const uint64_t entry_gfn = TdpTable::entry_gfn(e);
           if (e.level > ept::kPageLevel || !(mask & (uint64_t{1} << (entry_gfn - gfn)))) return 0;
           mask &= ~(uint64_t{1} << (entry_gfn - gfn));
           if (!(old & dbit)) return 0;
           t.store(e.ptep, old & ~dbit);
           return 0;
         });
  t.leave();
}

// Write access and the permission to make the SPTE writable again both go; the first SPTE that
// already has neither ends the walk.
bool tdp_write_protect_gfn(TdpTable& t, uint64_t gfn, unsigned min_level) {
  if (!t.live()) return false;
  bool changed = false;
  t.walk(gfn, gfn + 1, min_level, [&](const walker::VisitedEntry& e) {
    const Pte old = *e.ptep;
    if (!present_leaf(old, e.level)) return 0;
    const Pte new_spte = old & ~(ept::kWrite | ept::kMmuWritable);
    if (new_spte == old) return kStopWalk;
    t.set_spte(e.ptep, new_spte, TdpTable::entry_gfn(e), e.level, false);
    changed = true;
    return 0;
  });
  t.leave();
  return changed;
}

}  // namespace mmudiff::walker_x86
