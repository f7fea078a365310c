// SPDX-License-Identifier: GPL-2.0-only
// One stage-2 page table: its geometry, its configuration and the two interfaces it works
// through. The walk and every operation take this and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmu/format/arm64_s2.h"
#include "mmu/ops/op.h"
#include "mmu/plants.h"
#include "mmu/walker/generation.h"
#include "mmu/walker/mm_ops.h"
#include "mmu/walker/pte.h"
#include "mmu/walker/stage2_mmu.h"
#include "mmu/walker/warning_log.h"

namespace mmudiff::walker {

// Each start-level page covers what one entry of the level above would: that shift, applied to
// the highest IPA, numbers the last concatenated page.
inline constexpr unsigned pgd_page_shift(unsigned start_level) {
  return arm64s2::granule_shift(start_level) + 9;
}
inline constexpr unsigned pgd_pages(unsigned ia_bits, unsigned start_level) {
  return static_cast<unsigned>(((arm64s2::bit(ia_bits) - 1) >> pgd_page_shift(start_level)) + 1);
}

struct Stage2PageTable {
  Stage2PageTable(MmOps& mm_ops, Stage2Mmu& s2_mmu) : mm(mm_ops), mmu(s2_mmu) {}

  MmOps& mm;
  Stage2Mmu& mmu;

  // Geometry and configuration outlive destroy, as the kernel's struct does: only pgd says
  // whether the table exists.
  unsigned ia_bits = 0;
  unsigned start_level = 0;
  Pte* pgd = nullptr;  // the concatenated start-level pages, contiguous
  Arm64S2Config config;
  // The planted bug this table runs with (kNone: the faithful walker).
  Plant plant = Plant::kNone;

  // The tables 6.12's create_unlinked built that nothing links, oldest first: the table keeps
  // them for its caller until free_unlinked, and destroy frees those left, as their owner must.
  struct Unlinked {
    Pte* table;
    unsigned level;  // of the entry it would be linked from
  };
  std::vector<Unlinked> unlinked;

  // The kernel's WARN_ONs that a caller can reach.
  WarningLog warnings;

  uint64_t ia_limit() const { return arm64s2::bit(ia_bits); }
  unsigned pgd_pages() const { return walker::pgd_pages(ia_bits, start_level); }
  unsigned pgd_page_index(uint64_t addr) const {
    return static_cast<unsigned>((addr & (ia_limit() - 1)) >> pgd_page_shift(start_level));
  }
  // FWB lets the table force the memory type, so cache maintenance is needless with it.
  bool has_fwb() const { return config.has_fwb(); }
  // The CPU has FEAT_LPA2 and the generation asks (kvm_lpa2_is_enabled()): 52-bit PAs, whose
  // bits 51:50 every descriptor holds in bits 9:8, and leaves without SH.
  bool lpa2() const { return generation().lpa2_when_the_cpu_has_it && config.lpa2; }
  // Whose behaviour the operations follow: the kernel the configuration names.
  const Generation& generation() const { return generation_of(config.kernel); }

  // Every translation of [addr, addr + size) goes (6.12's kvm_tlb_flush_vmid_range): range
  // TLBIs of at most kMaxTlbiRangePages pages each when the CPU has FEAT_TLBIRANGE, else the
  // whole VMID. The size is taken in whole pages, rounded down, as the kernel counts them.
  void tlb_flush_vmid_range(uint64_t addr, uint64_t size) {
    if (!config.tlb_range) {
      mmu.tlb_flush_vmid();
      return;
    }
    for (uint64_t pages = size >> arm64s2::kPageShift; pages > 0;) {
      const uint64_t chunk =
          pages < arm64s2::kMaxTlbiRangePages ? pages : arm64s2::kMaxTlbiRangePages;
      mmu.tlb_flush_range(addr, chunk << arm64s2::kPageShift);
      addr += chunk << arm64s2::kPageShift;
      pages -= chunk;
    }
  }
};

}  // namespace mmudiff::walker
