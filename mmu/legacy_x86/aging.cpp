// SPDX-License-Identifier: GPL-2.0-only
// Aging through the rmaps (kvm_tdp_mmu_age_gfn_range, kvm_tdp_mmu_test_age_gfn): with A/D bits
// the accessed bit is cleared; without, the SPTE is made inaccessible (access tracking) and its R
// and X are kept in the saved bits. Neither flushes: the notifier only wants to know.
#include "mmu/legacy_x86/legacy_x86_backend.h"

namespace mmudiff::legacy_x86 {

bool LegacyX86Backend::age_gfn_range(uint64_t start_gfn, uint64_t end_gfn) {
  if (!mmu_.live()) return false;
  bool young = false;
  for (const SpteRef& ref : mmu_.rmap().overlapping(start_gfn, end_gfn)) {
    const uint64_t spte = ref.spte();
    if (!is_accessed(mmu_.spte_config(), spte)) continue;
    mmu_.write_spte(*ref.sp, ref.index, age_spte(kSpteIntegers, mmu_.spte_config(), spte));
    young = true;
  }
  return young;
}

bool LegacyX86Backend::test_age_gfn(uint64_t gfn) {
  if (!mmu_.live()) return false;
  bool young = false;
  for (const SpteRef& ref : mmu_.rmap().overlapping(gfn, gfn + 1))
    young |= is_accessed(mmu_.spte_config(), ref.spte());
  return young;
}

}  // namespace mmudiff::legacy_x86
