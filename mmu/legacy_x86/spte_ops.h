// SPDX-License-Identifier: GPL-2.0-only
// The legacy x86 backend's SPTE constructors and updates (Linux 6.12 spte.c: make_spte,
// make_nonleaf_spte, make_mmio_spte, make_huge_page_split_spte, mark_spte_for_access_track,
// restore_acc_track_spte), written once over a bit domain so that models/ can run this very source
// on Z3 bit-vectors and prove it for all inputs, while the backend runs it on integers
// (SpteIntegers below).
//
// A domain D provides D::Word (64 bits) and D::Bool, the operators & | ~ on Words and && || ! on
// Bools, and lit(constant), any(word) (some bit set), eq(a, b), select(cond, a, b), shl(word, n),
// shr(word, n). Levels, the configuration and the plant are plain values: a proof takes each in
// turn.
#pragma once

#include <cstdint>

#include "mmu/format/x86_ept.h"
#include "mmu/plants.h"

namespace mmudiff::legacy_x86 {

namespace ept = x86ept;

struct SpteIntegers {
  using Word = uint64_t;
  using Bool = bool;
  static constexpr Word lit(uint64_t v) { return v; }
  static constexpr Bool any(Word w) { return w != 0; }
  static constexpr Bool eq(Word a, Word b) { return a == b; }
  static constexpr Word select(Bool c, Word a, Word b) { return c ? a : b; }
  static constexpr Word shl(Word w, unsigned n) { return w << n; }
  static constexpr Word shr(Word w, unsigned n) { return w >> n; }
};
inline constexpr SpteIntegers kSpteIntegers{};

// What kvm_mmu_set_ept_masks() and the module parameters fix for the VM's lifetime.
struct SpteConfig {
  unsigned maxphyaddr = 46;
  bool ad = true;        // enable_ept_ad_bits: the root role's ad_disabled is its negation
  bool execonly = true;  // shadow_present_mask leaves R out when execute-only is supported
  bool nx_huge_pages = false;
  Plant plant = Plant::kNone;
};

// shadow_present_mask: "suppress #VE" always, R only without execute-only support.
inline constexpr uint64_t present_mask(const SpteConfig& c) {
  return (c.execonly ? 0 : ept::kRead) | ept::kSuppressVe;
}

// shadow_acc_track_mask: what access tracking clears when A/D bits are off.
inline constexpr uint64_t acc_track_mask(const SpteConfig& c) {
  // Planted: W survives access tracking, leaving a write-only (W without R) SPTE.
  if (c.plant == Plant::kLegacyX86WriteWithoutRead) return ept::kRead | ept::kExec;
  // Planted: X survives access tracking, leaving an execute-only SPTE.
  if (c.plant == Plant::kLegacyX86ExecOnlyWithoutSupport) return ept::kRead | ept::kWrite;
  return ept::kRwxMask;
}

inline constexpr unsigned pages_per_level(unsigned level) {
  return 1u << ((level - 1) * ept::kLevelBits);
}

template <class D>
constexpr typename D::Bool spte_ad_enabled(const D& d, typename D::Word spte) {
  return !d.eq(spte & d.lit(ept::kAdStateMask), d.lit(ept::kAdDisabled));
}

template <class D>
constexpr typename D::Bool is_access_tracked(const D& d, const SpteConfig& c,
                                             typename D::Word spte) {
  return !spte_ad_enabled(d, spte) && !d.any(spte & d.lit(acc_track_mask(c)));
}

template <class D>
constexpr typename D::Word mark_for_access_track(const D& d, const SpteConfig& c,
                                                 typename D::Word spte) {
  const auto with_ad = spte & d.lit(~ept::kAccessed);
  const auto saved =
      (spte | d.shl(spte & d.lit(ept::kAccTrackSavedBits), ept::kAccTrackSavedShift)) &
      d.lit(~acc_track_mask(c));
  return d.select(spte_ad_enabled(d, spte), with_ad,
                  d.select(is_access_tracked(d, c, spte), spte, saved));
}

template <class D>
constexpr typename D::Word restore_access_track(const D& d, const SpteConfig& c,
                                                typename D::Word spte) {
  const auto saved = d.shr(spte, ept::kAccTrackSavedShift) & d.lit(ept::kAccTrackSavedBits);
  return (spte & d.lit(~acc_track_mask(c)) & d.lit(~ept::kAccTrackSavedMask)) | saved;
}

// A leaf for a fault in the memslot: make_spte() with ACC_ALL, as the TDP MMU calls it.
struct LeafRequest {
  unsigned level = 1;
  bool prefetch = false;
  bool host_writable = true;
  bool host_mmio = false;  // kvm_is_mmio_pfn: uncached memory type
};

template <class D>
constexpr typename D::Word make_leaf_spte(const D& d, const SpteConfig& c, const LeafRequest& r,
                                          typename D::Word pfn, typename D::Word old_spte) {
  using Word = typename D::Word;
  Word spte =
      d.lit(ept::kMmuPresent | (c.ad ? ept::kAdEnabled : ept::kAdDisabled) | present_mask(c));
  if (!r.prefetch && c.ad) spte = spte | d.lit(ept::kAccessed);
  // The iTLB-multihit mitigation: no executable huge page.
  const bool exec = !(r.level > ept::kPageLevel && c.nx_huge_pages);
  if (exec) spte = spte | d.lit(ept::kExec);
  spte = spte | d.lit(ept::kRead);  // ACC_USER_MASK is EPT's R
  if (r.level > ept::kPageLevel) spte = spte | d.lit(ept::kLargePage);
  spte = spte |
         d.lit(r.host_mmio ? uint64_t{ept::kMemTypeUc} << ept::kMemTypeShift
                           : (uint64_t{ept::kMemTypeWb} << ept::kMemTypeShift) | ept::kIgnorePat);
  const bool writable = r.host_writable;
  if (r.host_writable) spte = spte | d.lit(ept::kHostWritable);
  spte = spte | d.shl(pfn, ept::kPageShift);
  // Planted: RAM leaves carry a memory-encryption bit at MAXPHYADDR, as if the CPU's reduced
  // physical-address width had not been taken out of the address space.
  if (c.plant == Plant::kLegacyX86ReservedAboveMaxPhyAddr && !r.host_mmio && c.maxphyaddr < 52)
    spte = spte | d.lit(ept::bit(c.maxphyaddr));
  if (writable) {
    spte = spte | d.lit(ept::kWrite | ept::kMmuWritable);
    // Overwriting a writable leaf: the old SPTE carries the dirty state, so D is not set anew.
    // Like is_last_spte(), this looks at the shape only, not at MMU-present.
    typename D::Bool old_writable_leaf = d.any(old_spte & d.lit(ept::kWrite));
    if (r.level != ept::kPageLevel)
      old_writable_leaf = old_writable_leaf && d.any(old_spte & d.lit(ept::kLargePage));
    if (c.ad) spte = spte | d.select(old_writable_leaf, d.lit(0), d.lit(ept::kDirty));
  }
  if (r.prefetch) spte = mark_for_access_track(d, c, spte);
  return spte;
}

// make_nonleaf_spte: RWX for everything below, A set with A/D bits, "disabled" without.
template <class D>
constexpr typename D::Word make_nonleaf_spte(const D& d, const SpteConfig& c,
                                             typename D::Word table_pa) {
  return (table_pa & d.lit(ept::kAddrMask)) |
         d.lit(ept::kMmuPresent | present_mask(c) | ept::kRwxMask |
               (c.ad ? ept::kAccessed : ept::kAdDisabled));
}

// make_mmio_spte with memslot generation 0 and no L1TF relocation: W+X without R, the gpa.
template <class D>
constexpr typename D::Word make_mmio_spte(const D& d, typename D::Word gfn) {
  return d.shl(gfn, ept::kPageShift) | d.lit(ept::kMmioValue);
}

template <class D>
constexpr typename D::Word make_executable(const D& d, const SpteConfig& c, typename D::Word spte) {
  const auto tracked = is_access_tracked(d, c, spte);
  const auto plain = d.select(tracked, restore_access_track(d, c, spte), spte) | d.lit(ept::kExec);
  return d.select(tracked, mark_for_access_track(d, c, plain), plain);
}

// make_huge_page_split_spte: the child at `index` of a huge SPTE, one level down.
template <class D>
constexpr typename D::Word split_child_spte(const D& d, const SpteConfig& c, typename D::Word huge,
                                            unsigned child_level, unsigned index) {
  using Word = typename D::Word;
  Word child = huge | d.lit(uint64_t{index} * pages_per_level(child_level) << ept::kPageShift);
  if (child_level == ept::kPageLevel) {
    child = child & d.lit(~ept::kLargePage);
    // A 4K page cannot be an iTLB-multihit victim: execution comes back.
    if (c.nx_huge_pages) child = make_executable(d, c, child);
  }
  // Planted: the children forget the huge page's A/D state.
  if (c.plant == Plant::kLegacyX86SplitLosesAccessDirty)
    child = child & d.lit(~(ept::kAccessed | ept::kDirty));
  // Planted: the children forget that the host mapping is writable.
  if (c.plant == Plant::kLegacyX86SplitLosesHostWritable)
    child = child & d.lit(~ept::kHostWritable);
  return child;
}

// ---- In-place updates -----------------------------------------------------------------------

// Dirty logging's write protection: W only, MMU-writable stays so a fast fault may restore it.
template <class D>
constexpr typename D::Word wrprot_spte(const D& d, typename D::Word spte) {
  return spte & d.lit(~ept::kWrite);
}

// write_protect_gfn: writes must keep faulting, so MMU-writable goes too.
template <class D>
constexpr typename D::Word mmu_wrprot_spte(const D& d, typename D::Word spte) {
  return spte & d.lit(~(ept::kWrite | ept::kMmuWritable));
}

template <class D>
constexpr typename D::Word age_spte(const D& d, const SpteConfig& c, typename D::Word spte) {
  return d.select(spte_ad_enabled(d, spte), spte & d.lit(~ept::kAccessed),
                  mark_for_access_track(d, c, spte));
}

// ---- Predicates, on integers ----------------------------------------------------------------

inline constexpr bool is_present(uint64_t spte) {
  return spte & ept::kMmuPresent;
}
inline constexpr bool is_leaf(uint64_t spte, unsigned level) {
  return level == ept::kPageLevel || (spte & ept::kLargePage);
}
inline constexpr bool is_present_leaf(uint64_t spte, unsigned level) {
  return is_present(spte) && is_leaf(spte, level);
}
inline constexpr bool is_writable(uint64_t spte) {
  return spte & ept::kWrite;
}
inline constexpr bool is_mmio(uint64_t spte) {
  return (spte & (ept::kMmioMask | ept::kSuppressVe)) == ept::kMmioValue;
}
inline constexpr uint64_t spte_pfn(uint64_t spte) {
  return (spte & ept::kAddrMask) >> ept::kPageShift;
}
inline constexpr bool is_accessed(const SpteConfig& c, uint64_t spte) {
  return spte_ad_enabled(kSpteIntegers, spte) ? (spte & ept::kAccessed) != 0
                                              : !is_access_tracked(kSpteIntegers, c, spte);
}

// The shadow_zero_check of a TDP MMU on EPT (__reset_rsvds_bits_mask_ept with execute-only
// off, as reset_tdp_shadow_zero_bits_mask calls it): the bits a present SPTE must not set.
inline constexpr uint64_t reserved_bits(unsigned maxphyaddr, unsigned max_huge_level, uint64_t spte,
                                        unsigned level) {
  const uint64_t high = maxphyaddr < 52 ? ept::genmask(51, maxphyaddr) : 0;
  const bool large = spte & ept::kLargePage;
  const uint64_t bit7 = ept::kLargePage;
  switch (level) {
    case 1:
      return high;
    case 2:
      if (large) return high | ept::genmask(20, 12) | (max_huge_level < 2 ? bit7 : 0);
      return high | ept::genmask(6, 3) | (max_huge_level < 2 ? bit7 : 0);
    case 3:
      if (large) return high | ept::genmask(29, 12) | (max_huge_level < 3 ? bit7 : 0);
      return high | ept::genmask(6, 3) | (max_huge_level < 3 ? bit7 : 0);
    default:
      return high | ept::genmask(7, 3);
  }
}

// bad_mt_xwr: memory types 2, 3, 7; W without R; X without R (no execute-only in the check).
inline constexpr bool bad_memtype_or_xwr(uint64_t spte) {
  const unsigned mt = (spte & ept::kMemTypeMask) >> ept::kMemTypeShift;
  const unsigned xwr = spte & ept::kRwxMask;
  return mt == 2 || mt == 3 || mt == 7 || xwr == 2 || xwr == 6 || xwr == 4;
}

inline constexpr bool is_reserved_spte(unsigned maxphyaddr, unsigned max_huge_level, uint64_t spte,
                                       unsigned level) {
  return bad_memtype_or_xwr(spte) ||
         (spte & reserved_bits(maxphyaddr, max_huge_level, spte, level));
}

}  // namespace mmudiff::legacy_x86
