// SPDX-License-Identifier: GPL-2.0-only
// WalkerX86Backend: the TdpApi calls, each what KVM does around the TDP MMU function (the
// memslot of the slot operations, the lock mode that decides atomic or plain stores, the end of
// the operation's RCU read side).
#include "mmu/walker_x86/walker_x86_backend.h"

#include "mmu/format/x86_ept_format.h"
#include "mmu/walker_x86/tdp_ops.h"

namespace mmudiff {

using walker_x86::Slot;

WalkerX86Backend::WalkerX86Backend(Machine& machine, Plant plant) : table_(machine, plant) {}

WalkerX86Backend::~WalkerX86Backend() {
  table_.destroy();
}

int WalkerX86Backend::init(const x86::EptConfig& config) {
  return table_.init(config);
}

void WalkerX86Backend::destroy() {
  table_.destroy();
}

int WalkerX86Backend::fault(const x86::TdpFault& fault) {
  return walker_x86::tdp_fault(table_, fault);
}

bool WalkerX86Backend::zap_leafs(uint64_t start_gfn, uint64_t end_gfn) {
  return walker_x86::tdp_zap_leafs(table_, start_gfn, end_gfn);
}

void WalkerX86Backend::zap_all() {
  if (!table_.live()) return;
  walker_x86::tdp_zap_root(table_, false);
  table_.leave();
}

bool WalkerX86Backend::wrprot_slot(uint64_t base_gfn, uint64_t npages, unsigned min_level) {
  return walker_x86::tdp_wrprot_slot(table_, Slot{base_gfn, npages}, min_level);
}

bool WalkerX86Backend::clear_dirty_slot(uint64_t base_gfn, uint64_t npages) {
  return walker_x86::tdp_clear_dirty_slot(table_, Slot{base_gfn, npages});
}

void WalkerX86Backend::clear_dirty_masked(uint64_t /*base_gfn*/, uint64_t /*npages*/, uint64_t gfn,
                                          uint64_t mask, bool wrprot) {
  walker_x86::tdp_clear_dirty_masked(table_, gfn, mask, wrprot);
}

bool WalkerX86Backend::age_gfn_range(uint64_t start_gfn, uint64_t end_gfn) {
  return walker_x86::tdp_age_gfn_range(table_, start_gfn, end_gfn);
}

bool WalkerX86Backend::test_age_gfn(uint64_t gfn) {
  return walker_x86::tdp_test_age_gfn_range(table_, gfn, gfn + 1);
}

void WalkerX86Backend::split_huge_pages(uint64_t /*base_gfn*/, uint64_t /*npages*/,
                                        uint64_t start_gfn, uint64_t end_gfn,
                                        unsigned target_level) {
  walker_x86::tdp_split_huge_pages(table_, start_gfn, end_gfn, target_level);
}

void WalkerX86Backend::zap_collapsible(uint64_t base_gfn, uint64_t npages) {
  walker_x86::tdp_zap_collapsible(table_, Slot{base_gfn, npages});
}

bool WalkerX86Backend::write_protect_gfn(uint64_t /*base_gfn*/, uint64_t /*npages*/, uint64_t gfn,
                                         unsigned min_level) {
  return walker_x86::tdp_write_protect_gfn(table_, gfn, min_level);
}

TableRoot WalkerX86Backend::root() const {
  if (!table_.live()) return {};
  const x86::EptConfig& c = table_.config();
  TableRoot r;
  r.ia_bits = x86ept::gpa_bits(c.levels);
  r.start_level = 0;
  r.pgd_pa = table_.root_pa();
  r.pgd_pages = 1;
  r.fwb = false;
  r.format = &x86_ept_format(X86EptParams{c.maxphyaddr, c.levels, c.ad, c.execonly});
  return r;
}

std::vector<std::string> WalkerX86Backend::take_warnings() {
  return table_.take_warnings();
}

std::unique_ptr<x86::TdpApi> make_walker_x86_backend(Machine& machine, Plant plant) {
  return std::make_unique<WalkerX86Backend>(machine, plant);
}

}  // namespace mmudiff
