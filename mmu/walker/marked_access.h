// SPDX-License-Identifier: GPL-2.0-only
// The descriptor accesses of arm64 6.12's shared-walk protocol, as the walker makes them. In
// 6.12, walkers that hold the MMU lock only for reading (a vCPU's fault: map, relax_perms,
// mkyoung) change entries concurrently, so an entry changes in one of three ways:
//   - old -> new in one compare-and-swap against the value the walk read, when nothing else
//     about the entry has to happen first (an attribute change);
//   - old -> locked -> new, when the old value's translations must be invalidated before the new
//     one is visible (break-before-make, Arm ARM D8.13.1): the compare-and-swap to the locked
//     value (kLockedPte) claims the entry, the TLBI follows, and a store-release publishes the
//     new value after its table page reference is taken;
//   - a walk that finds an entry locked, or loses the compare-and-swap, leaves it alone and
//     answers -EAGAIN (the vCPU retries its fault).
// A walk that is not shared holds the table alone and stores plainly.
//
// Each access below (and each read of an entry by the walk, walk.h) is a scheduling point of a
// concurrent run (mmu/sched/deterministic_scheduler.h), named as the kernel shim names its own
// (READ_ONCE, WRITE_ONCE, smp_store_release, cmpxchg) and taken before the access: under one
// schedule the walker and linux612 interleave alike. Outside a concurrent run a point costs a
// thread-local test. Inside one, each access is also checked against the host's memory once the
// vCPU runs again, as the kernel shim checks the kernel's: a descriptor read or written in a page
// freed meanwhile (a table freed before its grace period ended) is a memory fault, "use of a
// freed page" (SimMemory::check_use), so linux612 and the walker are judged alike.
#pragma once

#include "mmu/plants.h"
#include "mmu/sched/deterministic_scheduler.h"
#include "mmu/sched/sched_hooks.h"
#include "mmu/walker/page_table.h"
#include "mmu/walker/pte.h"
#include "mmu/walker/table_walk.h"

namespace mmudiff::walker {

// The scheduling point before the access WHAT to PTEP, and its check.
inline void marked_access(const MmOps& mm, const char* what, const Pte* ptep) {
  if (mmudiff_sched_access(what, ptep)) mm.check_use(ptep, what);
}

inline void read_once_point(const MmOps& mm, const Pte* ptep) {
  marked_access(mm, "READ_ONCE", ptep);
}

// A plain store by a walk that holds the table alone (WRITE_ONCE).
inline void write_once(Stage2PageTable& pgt, Pte* ptep, Pte value) {
  marked_access(pgt.mm, "WRITE_ONCE", ptep);
  pgt.mmu.write_pte(ptep, value);
}

// The store that publishes a new entry after its break (smp_store_release): everything done to
// make it valid (the reference on the table page, a new table's zeroed contents) is visible
// before the entry is.
inline void store_release(Stage2PageTable& pgt, Pte* ptep, Pte value) {
  marked_access(pgt.mm, "smp_store_release", ptep);
  pgt.mmu.write_pte(ptep, value);
}

// stage2_try_set_pte: VALUE replaces what the walk read (e.old), unless, on a shared walk,
// another walker changed the entry since: then nothing is stored and the caller backs off. A
// lost swap stores nothing, so the hardware (and the effect log) sees nothing of it.
inline bool try_set_pte(Stage2PageTable& pgt, const VisitedEntry& e, Pte value, bool shared) {
  if (!shared) {
    write_once(pgt, e.ptep, value);
    return true;
  }
  marked_access(pgt.mm, "cmpxchg", e.ptep);
  // A real compare-and-swap: on real threads (mmu/sched/threaded_run.h) another vCPU may change
  // the entry between any two instructions.
  if (!pgt.mmu.cmpxchg_pte(e.ptep, e.old, value)) {
    mmudiff_sched_lost_cmpxchg();
    return false;
  }
  return true;
}

// A shared walk's RCU read-side section (kvm_pgtable_walk_begin/end): a table unlinked while
// the walk may be inside it is freed only once the walk has left (call_rcu). Nothing for a walk
// that is not shared, nor outside a concurrent run.
class SharedWalkSection {
 public:
  // Planted (walker-612-shared-walk-without-rcu): a shared walk enters no read-side section, so
  // a table another vCPU unlinks meanwhile is freed under it.
  SharedWalkSection(bool shared, Plant plant)
      : shared_(shared && plant != Plant::kWalker612SharedWalkWithoutRcu) {
    if (shared_) sched::DeterministicScheduler::rcu_read_lock();
  }
  ~SharedWalkSection() { leave(); }
  SharedWalkSection(const SharedWalkSection&) = delete;
  SharedWalkSection& operator=(const SharedWalkSection&) = delete;
  // Ends the section before the scope does (the kernel leaves it before map's barrier).
  void leave() {
    if (shared_) sched::DeterministicScheduler::rcu_read_unlock();
    shared_ = false;
  }

 private:
  bool shared_;
};

}  // namespace mmudiff::walker
