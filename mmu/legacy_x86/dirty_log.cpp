// SPDX-License-Identifier: GPL-2.0-only
// Dirty logging through the rmaps: write-protect a slot (kvm_tdp_mmu_wrprot_slot), clear its dirty
// state (D with A/D bits, W without: kvm_tdp_mmu_clear_dirty_slot and _pt_masked), and
// write-protect one gfn for good (kvm_tdp_mmu_write_protect_gfn, MMU-writable cleared too).
#include <algorithm>
#include <bit>

#include "mmu/legacy_x86/legacy_x86_backend.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

bool LegacyX86Backend::wrprot_slot(uint64_t base_gfn, uint64_t npages, unsigned min_level) {
  if (!mmu_.live()) return false;
  bool changed = false;
  for (const SpteRef& ref :
       mmu_.rmap().overlapping(base_gfn, base_gfn + npages, std::max(min_level, 1u))) {
    // Planted: huge pages are left writable.
    if (mmu_.plant() == Plant::kLegacyX86WrprotMissesHugePage && ref.level() > ept::kPageLevel)
      continue;
    const uint64_t spte = ref.spte();
    if (!is_writable(spte)) continue;
    mmu_.set_spte(*ref.sp, ref.index, wrprot_spte(kSpteIntegers, spte), /*shared=*/true);
    changed = true;
  }
  return changed;
}

bool LegacyX86Backend::clear_dirty_slot(uint64_t base_gfn, uint64_t npages) {
  if (!mmu_.live()) return false;
  const uint64_t dirty_bit = mmu_.config().ad ? ept::kDirty : ept::kWrite;
  bool changed = false;
  for (const SpteRef& ref : mmu_.rmap().overlapping(base_gfn, base_gfn + npages)) {
    const uint64_t spte = ref.spte();
    if (!(spte & dirty_bit)) continue;
    mmu_.set_spte(*ref.sp, ref.index, spte & ~dirty_bit, /*shared=*/true);
    changed = true;
  }
  return changed;
}

// Only 4K SPTEs, only those whose bit is set in the mask of the 64 gfns from `gfn`.
void LegacyX86Backend::clear_dirty_masked(uint64_t, uint64_t, uint64_t gfn, uint64_t mask,
                                          bool wrprot) {
  if (!mmu_.live() || mask == 0) return;
  const uint64_t dirty_bit = (wrprot || !mmu_.config().ad) ? ept::kWrite : ept::kDirty;
  for (const SpteRef& ref :
       mmu_.rmap().overlapping(gfn + static_cast<unsigned>(std::countr_zero(mask)), gfn + 64)) {
    if (mask == 0) break;
    if (ref.level() > ept::kPageLevel) continue;
    const uint64_t bit = uint64_t{1} << (ref.gfn() - gfn);
    if (!(mask & bit)) continue;
    mask &= ~bit;
    const uint64_t spte = ref.spte();
    if (!(spte & dirty_bit)) continue;
    mmu_.write_spte(*ref.sp, ref.index, spte & ~dirty_bit);
  }
}

bool LegacyX86Backend::write_protect_gfn(uint64_t, uint64_t, uint64_t gfn, unsigned min_level) {
  if (!mmu_.live()) return false;
  for (const SpteRef& ref : mmu_.rmap().overlapping(gfn, gfn + 1, std::max(min_level, 1u))) {
    const uint64_t spte = ref.spte();
    const uint64_t protected_spte = mmu_wrprot_spte(kSpteIntegers, spte);
    if (protected_spte == spte) break;
    mmu_.set_spte(*ref.sp, ref.index, protected_spte, /*shared=*/false);
    return true;
  }
  return false;
}

}  // namespace mmudiff::legacy_x86
