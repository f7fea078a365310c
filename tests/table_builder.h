// SPDX-License-Identifier: GPL-2.0-only
// Stage-2 tables built by hand for the oracle tests: a SimMemory of its own, start-level pages
// from the VTCR geometry, intermediate tables allocated and linked on demand, refcounts kept at
// 1 + non-zero entries, and every descriptor store recorded as an Effect so the effects checker
// can follow the table from its first store.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "mmu/backend.h"
#include "mmu/format/arm64_s2.h"
#include "mmu/memory/effects.h"
#include "mmu/memory/sim_memory.h"

namespace mmudiff::testing {

namespace s2 = mmudiff::arm64s2;

inline constexpr uint64_t k4K = uint64_t{1} << 12;
inline constexpr uint64_t k2M = uint64_t{1} << 21;
inline constexpr uint64_t k1G = uint64_t{1} << 30;
inline constexpr uint64_t k512G = uint64_t{1} << 39;

// What a leaf grants and what it is: KVM's encodings (AF set, inner shareable, XN[1] only).
struct Attrs {
  bool r = true;
  bool w = true;
  bool x = false;
  bool device = false;
  bool non_cacheable = false;  // normal non-cacheable (6.12's NORMAL_NC)
  bool af = true;
  uint8_t sw = 0;
};

// A block (level 1 or 2) or page (level 3) descriptor as KVM would write it.
inline uint64_t leaf(unsigned level, uint64_t pa, Attrs a = {}, bool fwb = false) {
  s2::LeafFields f;
  f.oa = pa;
  f.mem_attr = static_cast<uint8_t>(a.device          ? s2::mem_attr_device(fwb)
                                    : a.non_cacheable ? s2::mem_attr_normal_nc(fwb)
                                                      : s2::mem_attr_normal(fwb));
  f.s2ap_r = a.r;
  f.s2ap_w = a.w;
  f.sh = static_cast<uint8_t>(s2::kShInner);
  f.af = a.af;
  f.xn = !a.x;
  f.sw = a.sw;
  return s2::make_leaf(level, f);
}

class TableBuilder {
 public:
  struct Options {
    unsigned ia_bits = 48;
    bool fwb = false;
    // Pages allocated (and kept) before the start-level pages: the same table built with another
    // pad lives at other physical addresses.
    unsigned pad_pages = 0;
  };

  TableBuilder() : TableBuilder(Options{}) {}
  explicit TableBuilder(Options o) : memory_(MemoryLimits{.max_pages = 4096, .quarantine = 64}) {
    for (unsigned i = 0; i < o.pad_pages; ++i) memory_.zalloc_page();
    s2::Geometry g = s2::geometry_for(o.ia_bits);
    void* pgd = memory_.zalloc_pages_exact(g.pgd_pages * s2::kPageSize);
    if (!pgd) throw std::runtime_error("no memory for the start-level pages");
    root_ = TableRoot{o.ia_bits, g.start_level, memory_.virt_to_phys(pgd), g.pgd_pages, o.fwb};
  }

  SimMemory& memory() { return memory_; }
  const TableRoot& root() const { return root_; }
  bool fwb() const { return root_.fwb; }
  // Every store this builder made, in order (TLBIs and the like can be appended by the test).
  EffectLog& log() { return log_; }

  // The physical address of the entry that translates ipa at level, allocating and linking (with
  // recorded stores) the tables above it as needed.
  uint64_t entry_pa(uint64_t ipa, unsigned level) {
    if (level < root_.start_level || level > s2::kLastLevel)
      throw std::invalid_argument("level outside the table");
    uint64_t per_page = s2::granule_size(root_.start_level) * s2::kEntriesPerTable;
    uint64_t table = root_.pgd_pa + (ipa / per_page) * s2::kPageSize;
    for (unsigned l = root_.start_level;; ++l) {
      uint64_t e = table + s2::table_index(ipa, l) * sizeof(uint64_t);
      if (l == level) return e;
      uint64_t d = read(e);
      if (d == 0) {
        d = s2::make_table(new_table_page());
        write(e, d);
      } else if (s2::classify(d, l) != s2::DescriptorKind::Table) {
        throw std::logic_error("a leaf is in the way of the table being built");
      }
      table = s2::output_address(d);
    }
  }
  // The start of the table page holding that entry.
  uint64_t table_pa(uint64_t ipa, unsigned level) { return entry_pa(ipa, level) & ~(k4K - 1); }

  uint64_t get(uint64_t ipa, unsigned level) { return read(entry_pa(ipa, level)); }

  // Writes desc at (ipa, level): refcounted and recorded, as a backend would.
  void set(uint64_t ipa, unsigned level, uint64_t desc) { write(entry_pa(ipa, level), desc); }

  // Writes desc into the entry at entry_pa (any table page, linked or not): refcounted, recorded.
  void store(uint64_t entry_pa, uint64_t desc) { write(entry_pa, desc); }

  // Writes desc with no refcount change and no record: a planted unrecorded change.
  void poke(uint64_t ipa, unsigned level, uint64_t desc) {
    *static_cast<uint64_t*>(memory_.phys_to_virt(entry_pa(ipa, level))) = desc;
  }

  void page(uint64_t ipa, uint64_t pa, Attrs a = {}) {
    set(ipa, s2::kLastLevel, leaf(s2::kLastLevel, pa, a, fwb()));
  }
  void block(uint64_t ipa, unsigned level, uint64_t pa, Attrs a = {}) {
    set(ipa, level, leaf(level, pa, a, fwb()));
  }

  // A zeroed page with refcount 1, not linked anywhere.
  uint64_t new_table_page() {
    void* p = memory_.zalloc_page();
    if (!p) throw std::runtime_error("out of table pages");
    return memory_.virt_to_phys(p);
  }

  int refcount(uint64_t page_pa) { return memory_.page_count(memory_.phys_to_virt(page_pa)); }

 private:
  uint64_t read(uint64_t entry) { return *static_cast<uint64_t*>(memory_.phys_to_virt(entry)); }

  void write(uint64_t entry, uint64_t desc) {
    auto* p = static_cast<uint64_t*>(memory_.phys_to_virt(entry));
    uint64_t old = *p;
    void* page = memory_.phys_to_virt(entry & ~(k4K - 1));
    if (!old && desc) memory_.get_page(page);
    if (old && !desc) memory_.put_page(page);
    *p = desc;
    log_.store(entry, old, desc);
  }

  SimMemory memory_;
  TableRoot root_;
  EffectLog log_;
};

}  // namespace mmudiff::testing
