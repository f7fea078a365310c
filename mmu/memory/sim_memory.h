// SPDX-License-Identifier: GPL-2.0-only
// Simulated physical memory for table pages: 4 KiB pages at deterministic fake physical addresses,
// reference counts with kvm_pgtable_mm_ops semantics, poisoning of freed pages, a leak report and
// a hard bound on the number of live pages. Misuse is recorded as a fault, never a crash, so the
// oracles can report it as a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace mmudiff {

inline constexpr uint64_t kDefaultTablePhysBase = 0x0000'4000'0000'0000ULL;
inline constexpr uint64_t kLowTablePhysBase = 0x0000'0001'0000'0000ULL;  // 4 GiB
// Table pages with PA[51:50] set, for arm64 tables with FEAT_LPA2 (52-bit PAs), whose table
// descriptors then carry those bits in bits [9:8].
inline constexpr uint64_t kLpa2TablePhysBase = 0x000c'4000'0000'0000ULL;

struct MemoryLimits {
  // 32 MiB of table pages per backend: several times what any stream within the work budget
  // (mmu/ops/work_budget.h) can build.
  size_t max_pages = 8192;
  size_t quarantine = 64;  // freed pages wait this long before reuse, to catch late writes
  // Where table pages start in the simulated physical address space. arm64 descriptors take
  // any address below 2^48; x86 SPTEs only addresses below 2^MAXPHYADDR (36 at the least), so
  // the x86 backends put their tables at kLowTablePhysBase.
  uint64_t phys_base = kDefaultTablePhysBase;

  // The real memory a backend and everything kept for it may take: its table arena (reserved at
  // twice the bound, see SimMemory), as much again for what the oracles keep for its tables
  // (shadows, effect logs, snapshots, the reference model), and 16 MiB for what they keep
  // whatever the table (per-operation results, traces). A replay in a child process
  // (oracles/isolated_run.h) is held to this by the kernel.
  uint64_t bytes_per_backend() const {
    return (uint64_t{16} << 20) + uint64_t{max_pages} * 4096 * 4;
  }

  bool operator==(const MemoryLimits&) const = default;
};

// The largest max_pages whose bytes_per_backend, for `backends` backends, fits in half of this
// machine's physical memory (and below 2^48 in the simulated physical address space).
size_t max_table_pages_that_fit(size_t backends);

enum class MemoryFaultKind : uint8_t {
  GetOfFreePage,   // get_page on a page that is not allocated
  PutOfFreePage,   // put_page on a page that is not allocated (double free)
  ForeignAddress,  // refcount or conversion call on an address outside the arena
  WriteAfterFree,  // a freed page's poison was overwritten
  LeakedPage,      // a page still allocated when the table was destroyed
  BadFreeExact,    // free_pages_exact on something zalloc_pages_exact did not return
  UseAfterFree,    // a marked access (READ_ONCE, cmpxchg, ...) to a freed page: check_use()
};

struct MemoryFault {
  MemoryFaultKind kind;
  uint64_t pa;
  std::string detail;
};

const char* memory_fault_name(MemoryFaultKind kind);

class SimMemory {
 public:
  // Table pages live at limits.phys_base upwards (kPhysBase unless the backend asks for another
  // base): below 2^48, so they fit a descriptor's OA field.
  static constexpr uint64_t kPhysBase = kDefaultTablePhysBase;
  // Addresses outside the arena convert to non-canonical pointers: dereferencing one faults.
  static constexpr uintptr_t kForeignTag = 0xa000'0000'0000'0000ULL;
  static constexpr uint64_t kPoison = 0xdeadbeefdeadbeefULL;

  // Throws std::invalid_argument when limits.max_pages would put pages at or above 2^48, and
  // std::bad_alloc when the arena cannot be mapped.
  explicit SimMemory(MemoryLimits limits = {});
  ~SimMemory();
  SimMemory(const SimMemory&) = delete;
  SimMemory& operator=(const SimMemory&) = delete;

  // Back to what a new SimMemory of the same limits is, without unmapping the arena: every page
  // used is zero again and unused (so no stream's result depends on the one before), faults,
  // counts and generations start over. What was used stays resident for the next stream, up to
  // kResidentAfterReset pages; more is handed back to the kernel.
  void reset();
  static constexpr size_t kResidentAfterReset = 2048;

  // While on, every call a backend's code makes (allocation, free, counts, conversion, checks)
  // holds a lock: the vCPUs of a threaded run (mmu/sched/threaded_run.h) share the memory. Off,
  // a serial stream pays no lock. Switched only while no vCPU runs.
  void set_concurrent(bool on) { concurrent_ = on; }

  // mm_ops: zeroed pages with a reference count of 1; nullptr once the bound is reached.
  void* zalloc_page();
  void* zalloc_pages_exact(size_t bytes);
  void free_pages_exact(void* va, size_t bytes);
  void get_page(void* va);
  void put_page(void* va);
  int page_count(const void* va) const;
  void* phys_to_virt(uint64_t pa) const;
  uint64_t virt_to_phys(const void* va) const;

  // For oracles and dumps: the 512 entries of a live table page, or nullptr.
  const uint64_t* table_page(uint64_t pa) const;
  bool is_live(uint64_t pa) const;
  uint64_t entry_pa(const void* entry) const { return virt_to_phys(entry); }

  size_t live_pages() const { return live_; }
  size_t peak_pages() const { return peak_; }
  size_t total_allocations() const { return allocations_; }
  bool bound_reached() const { return bound_reached_; }
  const MemoryLimits& limits() const { return limits_; }

  // A backend is about to access VA (WHAT: "READ_ONCE", "cmpxchg", ...): records a UseAfterFree
  // fault when VA is in a freed page, once per page in a row. This is how a page freed while a
  // walker may still be in it shows up, the moment the walker reads it: the kernel shims call it
  // before each marked access of a concurrent run (never in a serial stream, where it would cost
  // every READ_ONCE a lookup and find nothing a free can race with). Only a freed page not yet
  // reused is caught: the quarantine (MemoryLimits::quarantine frees) is how long that lasts;
  // after it the page is another table's, and a stale read of it looks like any other.
  void check_use(const void* va, const char* what);

  // Records a LeakedPage fault for every page still allocated; returns how many.
  size_t report_leaks();
  // Checks every freed page's poison; records WriteAfterFree faults; returns how many.
  size_t check_freed_pages();
  const std::vector<MemoryFault>& faults() const { return faults_; }
  void clear_faults() { faults_.clear(); }

  // Every live page's physical address, in address order.
  std::vector<uint64_t> live_page_list() const;

  // Write generations, for caches of what a page holds (the masked hash tree's). A page's
  // generation changes whenever its content may have: on allocation (zeroed), on free
  // (poisoned), and on every descriptor store reported through note_store(). Backends write
  // descriptors through raw pointers, so stores are reported by the EffectLog that records them
  // (EffectLog::track_stores_in); without that, tracks_stores() is false and no cache may trust
  // generations. Generations are values of change_clock(), which only grows.
  uint64_t generation(uint64_t pa) const;
  void note_store(uint64_t entry_pa);
  void set_store_tracking(bool on) { tracks_stores_ = on; }
  bool tracks_stores() const { return tracks_stores_; }
  // Told of every page freed (its last reference dropped), with its first address: how the
  // EffectLog places frees among the effects (EffectLog::track_stores_in).
  using FreeObserver = void (*)(void* context, uint64_t pa);
  void set_free_observer(FreeObserver observer, void* context) {
    free_observer_ = observer;
    free_context_ = context;
  }
  uint64_t change_clock() const { return clock_; }
  // Appends the first address of every page whose generation changed after clock value `since`,
  // each once, oldest change first. False when the journal no longer reaches back that far: the
  // caller must then compare generations itself.
  bool changed_since(uint64_t since, std::vector<uint64_t>* pages) const;

 private:
  enum class PageState : uint8_t { Unused, Live, Free };
  struct PageInfo {
    int32_t refcount = 0;
    PageState state = PageState::Unused;
    uint8_t run = 0;        // >0 on the first page of a zalloc_pages_exact run: its length
    uint32_t frees = 0;     // how often the page was freed: tells a stale queue entry apart
    uint32_t freed_at = 0;  // free_seq_ when it was last freed
  };
  struct FreedPage {
    size_t index;
    uint32_t frees;  // the page's count when it was queued
  };

  std::unique_lock<std::mutex> guard() const {
    return concurrent_ ? std::unique_lock<std::mutex>(mutex_) : std::unique_lock<std::mutex>();
  }
  void put_page_locked(void* va);
  bool index_of(const void* va, size_t* index) const;
  uint8_t* page_ptr(size_t index) const { return arena_ + index * 4096; }
  void* take_page(size_t index);
  void release_page(size_t index);
  void fault(MemoryFaultKind kind, uint64_t pa, std::string detail);
  void bump_generation(size_t index);
  // The first of `n` consecutive free pages below bump_, each freed more than the quarantine's
  // worth of frees ago unless `any_age`; arena_pages_ if there is none.
  size_t free_run(size_t n, bool any_age) const;

  MemoryLimits limits_;
  uint8_t* arena_ = nullptr;
  size_t arena_pages_ = 0;
  size_t bump_ = 0;
  mutable size_t reached_ = 0;  // one past the highest page phys_to_virt gave an address in
  std::vector<PageInfo> pages_;
  std::deque<FreedPage> free_fifo_;  // oldest free first; may hold stale entries
  uint32_t free_seq_ = 0;            // pages freed so far (wraps; only differences matter)
  size_t live_ = 0;
  size_t peak_ = 0;
  size_t allocations_ = 0;
  bool bound_reached_ = false;
  std::vector<MemoryFault> faults_;
  // Generations, grown with bump_ rather than sized to the arena: a SimMemory is made per stream.
  std::vector<uint64_t> generation_;
  uint64_t clock_ = 0;
  // One page index per generation bump, in clock order: journal_[k] was bumped to clock value
  // journal_base_ + k + 1. Cleared when it grows past kJournalLimit.
  std::vector<uint32_t> journal_;
  uint64_t journal_base_ = 0;
  static constexpr size_t kJournalLimit = size_t{1} << 18;
  bool tracks_stores_ = false;
  FreeObserver free_observer_ = nullptr;
  void* free_context_ = nullptr;
  bool concurrent_ = false;
  mutable std::mutex mutex_;
};

// A kvm_mmu_memory_cache: pages set aside for an operation so the walk never calls the allocator
// under a lock. It can run dry, which is how an operation reaches -ENOMEM. Pages are taken from
// memory only when popped: which pages a backend gets is unobservable (table addresses are
// masked), and filling a cache the operation never uses would cost the fuzz loop dearly.
class Memcache {
 public:
  Memcache(SimMemory& memory, size_t pages) : memory_(memory), remaining_(pages) {}

  void* pop() {
    if (remaining_ == 0) return nullptr;
    --remaining_;
    return memory_.zalloc_page();
  }
  size_t remaining() const { return remaining_; }

 private:
  SimMemory& memory_;
  size_t remaining_;
};

}  // namespace mmudiff
