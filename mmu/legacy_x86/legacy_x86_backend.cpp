// SPDX-License-Identifier: GPL-2.0-only
// The backend's lifetime and its root; each operation has its own file.
#include "mmu/legacy_x86/legacy_x86_backend.h"

#include "mmu/format/x86_ept_format.h"

namespace mmudiff {

std::unique_ptr<x86::TdpApi> make_legacy_x86_backend(Machine& machine, Plant plant) {
  return std::make_unique<legacy_x86::LegacyX86Backend>(machine, plant);
}

namespace legacy_x86 {

int LegacyX86Backend::init(const x86::EptConfig& config) {
  if (mmu_.live()) destroy();
  return mmu_.create_root(config);
}

// kvm_destroy_vm: the MMU notifier's release zaps everything under the write lock
// (kvm_mmu_zap_all); then kvm_mmu_uninit_tdp_mmu invalidates the root and zaps it again under the
// read lock -- nothing is present any more -- puts its last reference and runs the RCU callbacks.
void LegacyX86Backend::destroy() {
  if (!mmu_.live()) return;
  zap_root(/*shared=*/false);
  zap_root(/*shared=*/true);
  mmu_.commit_zap();
  if (mmu_.hash().size() != 1)
    mmu_.warn("destroy: tables left after zapping the root (tdp_mmu_pages is not zero)");
  mmu_.release_all();
}

TableRoot LegacyX86Backend::root() const {
  TableRoot r;
  if (!mmu_.live()) return r;
  r.ia_bits = x86ept::gpa_bits(mmu_.config().levels);
  r.start_level = 0;
  r.pgd_pa = mmu_.root_pa();
  r.pgd_pages = 1;
  r.fwb = false;
  const x86::EptConfig& c = mmu_.config();
  r.format = &x86_ept_format({c.maxphyaddr, c.levels, c.ad, c.execonly});
  return r;
}

}  // namespace legacy_x86
}  // namespace mmudiff
