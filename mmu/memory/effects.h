// SPDX-License-Identifier: GPL-2.0-only
// Hardware side effects a backend causes: descriptor stores, TLB invalidations, barriers and cache
// maintenance, in program order, and where among them table pages were freed. Oracles check
// break-before-make, TLB staleness and freeing before the flush over this.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "mmu/memory/sim_memory.h"

namespace mmudiff {

enum class EffectKind : uint8_t {
  Store,     // a descriptor write: pa of the entry, old and new value
  TlbiIpa,   // arm64: __kvm_tlb_flush_vmid_ipa(ipa, level), level 0 = "any level"; x86: a
             // ranged remote TLB flush of [ipa, ipa + size), level the SDM level it is one page of
             // (0 when it is none)
  TlbiVmid,  // __kvm_tlb_flush_vmid: the whole VMID
  Dsb,       // barrier: domain says which
  Isb,
  DcacheCleanInval,  // dcache_clean_inval_poc over [pa, pa + size)
  IcacheInval,       // icache_inval_pou over [pa, pa + size)
};

enum class Barrier : uint8_t { None, Ish, IshSt, Nsh, Sy };

struct Effect {
  EffectKind kind;
  uint8_t level = 0;
  Barrier barrier = Barrier::None;
  uint64_t addr = 0;  // Store: descriptor pa; TLBI: ipa; cache ops: pa
  uint64_t size = 0;  // cache ops; x86 ranged flushes
  uint64_t old_value = 0;
  uint64_t new_value = 0;

  bool operator==(const Effect&) const = default;
};

// A page freed (its last reference dropped) after the first `after` effects of the operation.
// Not an effect on the hardware, but where it falls among them matters: a table page freed
// before the TLBI that ends the walk cache's use of it may be reused while a walker follows it.
struct PageFree {
  size_t after = 0;
  uint64_t pa = 0;
  bool operator==(const PageFree&) const = default;
};

class EffectLog {
 public:
  // Every recorded store also moves the written page's generation in `memory`, which is how
  // caches of table pages learn of writes the backends make through raw pointers.
  void track_stores_in(SimMemory& memory) {
    tracked_ = &memory;
    memory.set_store_tracking(true);
    memory.set_free_observer(
        [](void* log, uint64_t pa) { static_cast<EffectLog*>(log)->page_freed(pa); }, this);
  }
  void page_freed(uint64_t pa) {
    auto lock = guard();
    frees_.push_back({events_.size(), pa});
  }

  // While on, each record holds a lock: the vCPUs of a threaded run (mmu/sched/threaded_run.h)
  // record into one log, their effects interleaved as they happened to. Switched only while no
  // vCPU runs.
  void set_concurrent(bool on) { concurrent_ = on; }

  void store(uint64_t entry_pa, uint64_t old_value, uint64_t new_value) {
    record({EffectKind::Store, 0, Barrier::None, entry_pa, 0, old_value, new_value});
    // Outside the log's lock: the memory's own lock is taken before the log's when a page is
    // freed (page_freed), never after it.
    if (tracked_) tracked_->note_store(entry_pa);
  }
  void tlbi_ipa(uint64_t ipa, unsigned level) {
    record({EffectKind::TlbiIpa, static_cast<uint8_t>(level), Barrier::None, ipa});
  }
  // kvm_flush_remote_tlbs_range: every cached translation of a GPA in [gpa, gpa + size), paging-
  // structure entries included; x86_level is the SDM level of a one-page range, else 0.
  void tlb_flush_range(uint64_t gpa, uint64_t size, unsigned x86_level) {
    record({EffectKind::TlbiIpa, static_cast<uint8_t>(x86_level), Barrier::None, gpa, size});
  }
  void tlbi_vmid() { record({EffectKind::TlbiVmid}); }
  void dsb(Barrier b) { record({EffectKind::Dsb, 0, b}); }
  void isb() { record({EffectKind::Isb}); }
  void dcache_clean_inval(uint64_t pa, uint64_t size) {
    record({EffectKind::DcacheCleanInval, 0, Barrier::None, pa, size});
  }
  void icache_inval(uint64_t pa, uint64_t size) {
    record({EffectKind::IcacheInval, 0, Barrier::None, pa, size});
  }

  const std::vector<Effect>& events() const { return events_; }
  // The pages freed among them, in order.
  const std::vector<PageFree>& frees() const { return frees_; }
  size_t size() const { return events_.size(); }
  void clear() {
    events_.clear();
    frees_.clear();
  }

 private:
  std::unique_lock<std::mutex> guard() {
    return concurrent_ ? std::unique_lock<std::mutex>(mutex_) : std::unique_lock<std::mutex>();
  }
  void record(const Effect& e) {
    auto lock = guard();
    events_.push_back(e);
  }

  std::vector<Effect> events_;
  std::vector<PageFree> frees_;
  SimMemory* tracked_ = nullptr;
  bool concurrent_ = false;
  std::mutex mutex_;
};

const char* effect_kind_name(EffectKind kind);
// "ish", "ishst", "nsh", "sy"; "" for none.
const char* barrier_name(Barrier b);
std::string describe_effect(const Effect& e);

}  // namespace mmudiff
