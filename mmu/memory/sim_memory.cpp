// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/memory/sim_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/memory/asan.h"

#ifdef MMUDIFF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON_PAGE(p) ASAN_POISON_MEMORY_REGION((p), 4096)
#define UNPOISON_PAGE(p) ASAN_UNPOISON_MEMORY_REGION((p), 4096)
#else
#define POISON_PAGE(p) ((void)(p))
#define UNPOISON_PAGE(p) ((void)(p))
#endif

namespace mmudiff {

static constexpr size_t kPage = 4096;
static constexpr size_t kWords = kPage / sizeof(uint64_t);

// What a freed page holds, whole.
static const uint64_t* poison_page() {
  static const auto page = [] {
    std::array<uint64_t, kWords> p;
    p.fill(SimMemory::kPoison);
    return p;
  }();
  return page.data();
}

const char* memory_fault_name(MemoryFaultKind kind) {
  switch (kind) {
    case MemoryFaultKind::GetOfFreePage:
      return "get_page of a free page";
    case MemoryFaultKind::PutOfFreePage:
      return "put_page of a free page";
    case MemoryFaultKind::ForeignAddress:
      return "address outside table memory";
    case MemoryFaultKind::WriteAfterFree:
      return "write to a freed page";
    case MemoryFaultKind::LeakedPage:
      return "page leaked";
    case MemoryFaultKind::BadFreeExact:
      return "bad free_pages_exact";
    case MemoryFaultKind::UseAfterFree:
      return "use of a freed page";
  }
  return "?";
}

size_t max_table_pages_that_fit(size_t backends) {
  long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  uint64_t physical = pages > 0 && page_size > 0 ? uint64_t(pages) * uint64_t(page_size) : 0;
  uint64_t fixed = MemoryLimits{.max_pages = 0}.bytes_per_backend();
  uint64_t per_page = MemoryLimits{.max_pages = 1}.bytes_per_backend() - fixed;
  uint64_t share = physical / 2 / std::max<size_t>(backends, 1);
  uint64_t fit = share > fixed ? (share - fixed) / per_page : 0;
  uint64_t below_oa_limit = (((uint64_t{1} << 48) - SimMemory::kPhysBase) / kPage - 64) / 2;
  return static_cast<size_t>(std::min(fit, below_oa_limit));
}

SimMemory::SimMemory(MemoryLimits limits) : limits_(limits) {
  // Twice the bound, so zalloc_pages_exact finds contiguous runs however fragmented the rest is.
  arena_pages_ = limits_.max_pages * 2 + 64;
  // Every page's address must fit a descriptor's OA field, below 2^48.
  if (limits_.max_pages > (((uint64_t{1} << 48) - limits_.phys_base) / kPage - 64) / 2)
    throw std::invalid_argument(
        fmt::format("memory bound of {} pages does not fit below 2^48 from {:#x}",
                    limits_.max_pages, limits_.phys_base));
  void* p = mmap(nullptr, arena_pages_ * kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  arena_ = static_cast<uint8_t*>(p);
  pages_.resize(arena_pages_);
}

SimMemory::~SimMemory() {
#ifdef MMUDIFF_ASAN
  ASAN_UNPOISON_MEMORY_REGION(arena_, arena_pages_ * kPage);
#endif
  munmap(arena_, arena_pages_ * kPage);
}

void SimMemory::reset() {
  // Every page a backend could have written: those handed out, and any other it reached by
  // address (a leaf followed as a table), with the page after each, which an index off the end
  // of a page lands in.
  size_t used = std::min(arena_pages_, std::max(bump_, reached_) + 1);
#ifdef MMUDIFF_ASAN
  ASAN_UNPOISON_MEMORY_REGION(arena_, used * kPage);
#endif
  if (used > kResidentAfterReset)
    madvise(arena_, used * kPage, MADV_DONTNEED);  // zero-filled again on the next touch
  else
    std::memset(arena_, 0, used * kPage);
  std::fill(pages_.begin(), pages_.begin() + static_cast<long>(bump_), PageInfo{});
  bump_ = 0;
  reached_ = 0;
  free_fifo_.clear();
  free_seq_ = 0;
  live_ = peak_ = allocations_ = 0;
  bound_reached_ = false;
  faults_.clear();
  generation_.clear();
  clock_ = 0;
  journal_.clear();
  journal_base_ = 0;
}

void SimMemory::fault(MemoryFaultKind kind, uint64_t pa, std::string detail) {
  faults_.push_back({kind, pa, std::move(detail)});
}

bool SimMemory::index_of(const void* va, size_t* index) const {
  auto p = reinterpret_cast<uintptr_t>(va);
  auto base = reinterpret_cast<uintptr_t>(arena_);
  if (p < base || p >= base + arena_pages_ * kPage) return false;
  *index = (p - base) / kPage;
  return true;
}

void* SimMemory::take_page(size_t index) {
  PageInfo& info = pages_[index];
  uint8_t* p = page_ptr(index);
  UNPOISON_PAGE(p);
  if (info.state == PageState::Free && std::memcmp(p, poison_page(), kPage) != 0) {
    auto* words = reinterpret_cast<const uint64_t*>(p);
    for (size_t i = 0; i < kWords; ++i) {
      if (words[i] != kPoison) {
        fault(MemoryFaultKind::WriteAfterFree, limits_.phys_base + index * kPage + i * 8,
              fmt::format("freed page {:#x} word {} is {:#018x} on reuse",
                          limits_.phys_base + index * kPage, i, words[i]));
        break;
      }
    }
  }
  // A page never handed out is zero: new from mmap, or zeroed by reset().
  if (info.state != PageState::Unused) std::memset(p, 0, kPage);
  bump_generation(index);
  info.state = PageState::Live;
  info.refcount = 1;
  info.run = 0;
  ++live_;
  ++allocations_;
  if (live_ > peak_) peak_ = live_;
  return p;
}

void SimMemory::release_page(size_t index) {
  PageInfo& info = pages_[index];
  uint8_t* p = page_ptr(index);
  auto* words = reinterpret_cast<uint64_t*>(p);
  std::memcpy(words, poison_page(), kPage);
  POISON_PAGE(p);
  bump_generation(index);
  info.state = PageState::Free;
  info.refcount = 0;
  info.run = 0;
  info.freed_at = ++free_seq_;
  --live_;
  free_fifo_.push_back({index, ++info.frees});
  if (free_observer_) free_observer_(free_context_, limits_.phys_base + index * kPage);
}

size_t SimMemory::free_run(size_t n, bool any_age) const {
  size_t run = 0;
  for (size_t i = 0; i < bump_; ++i) {
    const PageInfo& info = pages_[i];
    bool usable = info.state == PageState::Free &&
                  (any_age || free_seq_ - info.freed_at > limits_.quarantine);
    run = usable ? run + 1 : 0;
    if (run == n) return i + 1 - n;
  }
  return arena_pages_;
}

void* SimMemory::zalloc_page() {
  auto lock = guard();
  if (live_ >= limits_.max_pages) {
    bound_reached_ = true;
    return nullptr;
  }
  // Oldest freed page first, but only once enough have been freed after it: a late write to a
  // just-freed page then still finds its poison.
  while (free_fifo_.size() > limits_.quarantine || (bump_ == arena_pages_ && !free_fifo_.empty())) {
    FreedPage f = free_fifo_.front();
    free_fifo_.pop_front();
    // An entry is stale when zalloc_pages_exact reused the page since: it may be free again,
    // queued later, and must wait its own turn.
    if (pages_[f.index].state == PageState::Free && pages_[f.index].frees == f.frees)
      return take_page(f.index);
  }
  if (bump_ < arena_pages_) return take_page(bump_++);
  bound_reached_ = true;
  return nullptr;
}

void* SimMemory::zalloc_pages_exact(size_t bytes) {
  auto lock = guard();
  size_t n = (bytes + kPage - 1) / kPage;
  if (n == 0 || n > 255 || live_ + n > limits_.max_pages) {
    bound_reached_ = bound_reached_ || n != 0;
    return nullptr;
  }
  // A run freed long enough ago first, as zalloc_page takes freed pages before fresh ones: a
  // stream that makes and destroys many tables then keeps reusing the same memory, its footprint
  // follows its live tables, not its length (a fresh root for every init grew a 4,000-operation
  // stream to 2,500 pages, refaulted on every reset). Fresh pages next; any free run last.
  size_t first = free_run(n, false);
  if (first == arena_pages_ && bump_ + n <= arena_pages_) {
    first = bump_;
    bump_ += n;
  }
  if (first == arena_pages_) first = free_run(n, true);
  if (first == arena_pages_) {
    bound_reached_ = true;
    return nullptr;
  }
  for (size_t i = first; i < first + n; ++i) take_page(i);
  pages_[first].run = static_cast<uint8_t>(n);
  return page_ptr(first);
}

void SimMemory::free_pages_exact(void* va, size_t bytes) {
  auto lock = guard();
  size_t index;
  size_t n = (bytes + kPage - 1) / kPage;
  if (!index_of(va, &index) || reinterpret_cast<uintptr_t>(va) % kPage != 0 ||
      pages_[index].run != n) {
    fault(MemoryFaultKind::BadFreeExact, virt_to_phys(va),
          fmt::format("free_pages_exact({:#x}, {:#x}) does not match an allocation",
                      virt_to_phys(va), bytes));
    return;
  }
  pages_[index].run = 0;
  // Like the kernel's free_pages_exact: drop one reference on each page.
  for (size_t i = index; i < index + n; ++i) put_page_locked(page_ptr(i));
}

void SimMemory::get_page(void* va) {
  auto lock = guard();
  size_t index;
  if (!index_of(va, &index)) {
    fault(MemoryFaultKind::ForeignAddress, virt_to_phys(va), "get_page");
    return;
  }
  PageInfo& info = pages_[index];
  if (info.state != PageState::Live) {
    fault(MemoryFaultKind::GetOfFreePage, limits_.phys_base + index * kPage, "get_page");
    return;
  }
  ++info.refcount;
}

void SimMemory::put_page(void* va) {
  auto lock = guard();
  put_page_locked(va);
}

void SimMemory::put_page_locked(void* va) {
  size_t index;
  if (!index_of(va, &index)) {
    fault(MemoryFaultKind::ForeignAddress, virt_to_phys(va), "put_page");
    return;
  }
  PageInfo& info = pages_[index];
  if (info.state != PageState::Live) {
    fault(MemoryFaultKind::PutOfFreePage, limits_.phys_base + index * kPage, "put_page");
    return;
  }
  if (--info.refcount == 0) release_page(index);
}

int SimMemory::page_count(const void* va) const {
  auto lock = guard();
  size_t index;
  if (!index_of(va, &index)) return 0;
  return pages_[index].state == PageState::Live ? pages_[index].refcount : 0;
}

void* SimMemory::phys_to_virt(uint64_t pa) const {
  auto lock = guard();
  if (pa >= limits_.phys_base && pa < limits_.phys_base + arena_pages_ * kPage) {
    reached_ = std::max<size_t>(reached_, (pa - limits_.phys_base) / kPage + 1);
    return arena_ + (pa - limits_.phys_base);
  }
  return reinterpret_cast<void*>(static_cast<uintptr_t>(pa) | kForeignTag);
}

uint64_t SimMemory::virt_to_phys(const void* va) const {
  size_t index;
  if (index_of(va, &index)) {
    return limits_.phys_base +
           (reinterpret_cast<uintptr_t>(va) - reinterpret_cast<uintptr_t>(arena_));
  }
  return reinterpret_cast<uintptr_t>(va) & ~kForeignTag;
}

const uint64_t* SimMemory::table_page(uint64_t pa) const {
  if (!is_live(pa)) return nullptr;
  return reinterpret_cast<const uint64_t*>(arena_ +
                                           ((pa & ~uint64_t{kPage - 1}) - limits_.phys_base));
}

bool SimMemory::is_live(uint64_t pa) const {
  if (pa < limits_.phys_base || pa >= limits_.phys_base + arena_pages_ * kPage) return false;
  return pages_[(pa - limits_.phys_base) / kPage].state == PageState::Live;
}

void SimMemory::check_use(const void* va, const char* what) {
  auto lock = guard();
  size_t index;
  if (!index_of(va, &index) || pages_[index].state != PageState::Free) return;
  const uint64_t page = limits_.phys_base + index * kPage;
  // A walk that strayed into a freed table reads on in it: its first access says it all.
  if (!faults_.empty() && faults_.back().kind == MemoryFaultKind::UseAfterFree &&
      (faults_.back().pa & ~uint64_t{kPage - 1}) == page)
    return;
  const uint64_t pa = virt_to_phys(va);
  fault(MemoryFaultKind::UseAfterFree, pa,
        fmt::format("{} of {:#x}: page {:#x} was freed", what ? what : "access", pa, page));
}

size_t SimMemory::report_leaks() {
  size_t leaks = 0;
  for (size_t i = 0; i < bump_; ++i) {
    if (pages_[i].state != PageState::Live) continue;
    ++leaks;
    fault(MemoryFaultKind::LeakedPage, limits_.phys_base + i * kPage,
          fmt::format("page {:#x} still allocated, refcount {}", limits_.phys_base + i * kPage,
                      pages_[i].refcount));
  }
  return leaks;
}

size_t SimMemory::check_freed_pages() {
  size_t bad = 0;
  for (size_t i = 0; i < bump_; ++i) {
    if (pages_[i].state != PageState::Free) continue;
    uint8_t* p = page_ptr(i);
    UNPOISON_PAGE(p);
    auto* words = reinterpret_cast<const uint64_t*>(p);
    // Whole-page compare first (vectorised); the word loop only names the first bad word.
    if (std::memcmp(p, poison_page(), kPage) == 0) {
      POISON_PAGE(p);
      continue;
    }
    for (size_t w = 0; w < kWords; ++w) {
      if (words[w] != kPoison) {
        ++bad;
        fault(MemoryFaultKind::WriteAfterFree, limits_.phys_base + i * kPage + w * 8,
              fmt::format("freed page {:#x} word {} is {:#018x}", limits_.phys_base + i * kPage, w,
                          words[w]));
        break;
      }
    }
    POISON_PAGE(p);
  }
  return bad;
}

void SimMemory::bump_generation(size_t index) {
  if (index >= generation_.size()) generation_.resize(std::max(index + 1, bump_));
  generation_[index] = ++clock_;
  if (journal_.size() >= kJournalLimit) {
    journal_.clear();
    journal_base_ = clock_ - 1;
  }
  journal_.push_back(static_cast<uint32_t>(index));
}

uint64_t SimMemory::generation(uint64_t pa) const {
  if (pa < limits_.phys_base) return 0;
  uint64_t index = (pa - limits_.phys_base) / kPage;
  return index < generation_.size() ? generation_[index] : 0;
}

void SimMemory::note_store(uint64_t entry_pa) {
  auto lock = guard();
  if (entry_pa < limits_.phys_base) return;
  uint64_t index = (entry_pa - limits_.phys_base) / kPage;
  if (index < arena_pages_) bump_generation(index);
}

bool SimMemory::changed_since(uint64_t since, std::vector<uint64_t>* pages) const {
  if (since < journal_base_) return false;
  for (uint64_t k = since - journal_base_; k < journal_.size(); ++k) {
    uint32_t index = journal_[k];
    // Each page once: at its latest bump, the one its generation still names.
    if (generation_[index] == journal_base_ + k + 1)
      pages->push_back(limits_.phys_base + index * kPage);
  }
  return true;
}

std::vector<uint64_t> SimMemory::live_page_list() const {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < bump_; ++i)
    if (pages_[i].state == PageState::Live) out.push_back(limits_.phys_base + i * kPage);
  return out;
}

}  // namespace mmudiff
