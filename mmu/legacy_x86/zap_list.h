// SPDX-License-Identifier: GPL-2.0-only
// Zapping in two steps, as x86 KVM's kvm_mmu_prepare_zap_page / kvm_mmu_commit_zap_page.
// prepare() takes a table out of every lookup at once (hash, parent link), so nothing can find a
// page that is about to go; commit() frees the prepared pages. The SPTE side of a zap (the
// frozen values written into a removed table, the rmaps of its leaves) is ShadowMmu's, done
// while it prepares; commit stands for the RCU callbacks the TDP MMU queues, which run when the
// operation is over.
#pragma once

#include <vector>

#include "mmu/legacy_x86/page_hash.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/plants.h"

namespace mmudiff::legacy_x86 {

class ZapList {
 public:
  ZapList(PageHash& hash, SimMemory& memory, const Plant& plant)
      : hash_(hash), memory_(memory), plant_(plant) {}
  ~ZapList();
  ZapList(const ZapList&) = delete;
  ZapList& operator=(const ZapList&) = delete;

  void prepare(KvmMmuPage& sp);
  void commit();

  bool empty() const { return pages_.empty(); }
  size_t size() const { return pages_.size(); }

 private:
  PageHash& hash_;
  SimMemory& memory_;
  const Plant& plant_;
  std::vector<KvmMmuPage*> pages_;
  std::vector<KvmMmuPage*> lost_;  // what a plant leaked: its table page stays allocated
};

}  // namespace mmudiff::legacy_x86
