// SPDX-License-Identifier: GPL-2.0-only
// Zapping in two steps, as x86 KVM's kvm_mmu_prepare_zap_page / kvm_mmu_commit_zap_page.
// prepare() detaches a subtree of shadow pages from every lookup structure (hash table, reverse
// maps) at once, so nothing can find a page that is about to go; commit() then drops the
// references the detached pages hold and frees them, children before parents. The hardware side
// (clearing the parent descriptor, the TLBI) is the caller's, done before prepare, because which
// TLBI is needed depends on why the subtree goes.
#pragma once

#include <vector>

#include "mmu/legacy/reverse_map.h"
#include "mmu/legacy/shadow_hash.h"
#include "mmu/memory/sim_memory.h"

namespace mmudiff::legacy {

class ZapList {
 public:
  ZapList(ShadowHash& hash, ReverseMap& rmap, SimMemory& memory)
      : hash_(hash), rmap_(rmap), memory_(memory) {}
  ~ZapList() { commit(); }
  ZapList(const ZapList&) = delete;
  ZapList& operator=(const ZapList&) = delete;

  // Detaches `table` and every table below it. The descriptors are left as they are: the kernel
  // does not clear entries of a table it is about to free either.
  void prepare(ShadowPage& table);
  // Frees everything prepared so far.
  void commit();

  bool empty() const { return pages_.empty(); }

 private:
  void detach(ShadowPage& table);

  ShadowHash& hash_;
  ReverseMap& rmap_;
  SimMemory& memory_;
  std::vector<ShadowPage*> pages_;  // post-order: every child before its parent
};

}  // namespace mmudiff::legacy
