// SPDX-License-Identifier: GPL-2.0-only
// Everything the walker needs from memory, in the shape of kvm_pgtable_mm_ops: allocation,
// per-page reference counts, address conversion and cache maintenance by physical address. The
// walker never learns where pages come from, so the same visitors would run over any memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mmu/memory/effects.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

class MmOps {
 public:
  MmOps(SimMemory& memory, EffectLog& effects) : memory_(memory), effects_(effects) {}

  // A zeroed table page from the operation's memcache (count 1), or nullptr: the walk may not
  // call the allocator itself, so without a cache there is no page.
  Pte* zalloc_page(Memcache* memcache) {
    return memcache ? static_cast<Pte*>(memcache->pop()) : nullptr;
  }
  Pte* zalloc_pages_exact(size_t bytes) {
    return static_cast<Pte*>(memory_.zalloc_pages_exact(bytes));
  }
  void free_pages_exact(Pte* pages, size_t bytes) { memory_.free_pages_exact(pages, bytes); }

  // Counts are per page; any address inside the page names it, so an entry's own address is
  // how the walker adjusts the count of the table holding it.
  void get_page(Pte* inside) { memory_.get_page(inside); }
  void put_page(Pte* inside) { memory_.put_page(inside); }
  int page_count(const Pte* inside) const { return memory_.page_count(inside); }

  // A marked access of a concurrent run is about to touch ENTRY: a freed page there is a memory
  // fault (SimMemory::check_use), as it is when the kernel's code makes the access.
  void check_use(const Pte* entry, const char* what) const { memory_.check_use(entry, what); }

  Pte* phys_to_virt(uint64_t pa) const { return static_cast<Pte*>(memory_.phys_to_virt(pa)); }
  uint64_t virt_to_phys(const Pte* va) const { return memory_.virt_to_phys(va); }

  // Cache maintenance on the guest memory a descriptor maps. Only recorded: the address is a
  // guest physical address, never something to dereference.
  void dcache_clean_inval_poc(uint64_t pa, uint64_t size) { effects_.dcache_clean_inval(pa, size); }
  void icache_inval_pou(uint64_t pa, uint64_t size) { effects_.icache_inval(pa, size); }

 private:
  SimMemory& memory_;
  EffectLog& effects_;
};

}  // namespace mmudiff::walker
