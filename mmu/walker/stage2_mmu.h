// SPDX-License-Identifier: GPL-2.0-only
// The translation hardware a stage-2 table feeds, as the walker sees it: descriptor stores that a
// concurrent table walk can observe, TLB invalidation for the table's VMID, and barriers. Every
// call is recorded, in order, because the order is part of what the backends must agree on.
#pragma once

#include <cstdint>

#include "mmu/memory/effects.h"
#include "mmu/memory/sim_memory.h"
#include "mmu/walker/pte.h"

namespace mmudiff::walker {

class Stage2Mmu {
 public:
  Stage2Mmu(const SimMemory& memory, EffectLog& effects) : memory_(memory), effects_(effects) {}

  // Every descriptor write goes through here, even one that stores the value already there:
  // the hardware sees a store either way.
  // The store is an atomic exchange (release: a new table's zeroed entries are visible before the
  // entry that links it), so that the old value recorded is exactly the one replaced even while
  // another vCPU of a threaded run changes the entry.
  void write_pte(Pte* ptep, Pte value) {
    const Pte old = __atomic_exchange_n(ptep, value, __ATOMIC_RELEASE);
    effects_.store(memory_.virt_to_phys(ptep), old, value);
  }
  // VALUE replaces EXPECTED in one compare-and-swap, recorded when it succeeds; false when the
  // entry held something else.
  bool cmpxchg_pte(Pte* ptep, Pte expected, Pte value) {
    if (!__atomic_compare_exchange_n(ptep, &expected, value, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
      return false;
    effects_.store(memory_.virt_to_phys(ptep), expected, value);
    return true;
  }
  void clear_pte(Pte* ptep) { write_pte(ptep, 0); }

  // Level 0 means "any level": the entry was a table, so the walk cache may hold anything below.
  void tlb_flush_ipa(uint64_t ipa, unsigned level) { effects_.tlbi_ipa(ipa, level); }
  void tlb_flush_vmid() { effects_.tlbi_vmid(); }
  // One range TLBI (FEAT_TLBIRANGE): every translation of [ipa, ipa + size) at any level.
  void tlb_flush_range(uint64_t ipa, uint64_t size) { effects_.tlb_flush_range(ipa, size, 0); }
  // Makes stores visible to the hardware walker before the caller goes on.
  void dsb_ishst() { effects_.dsb(Barrier::IshSt); }

 private:
  const SimMemory& memory_;
  EffectLog& effects_;
};

}  // namespace mmudiff::walker
