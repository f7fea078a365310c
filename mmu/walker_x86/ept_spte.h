// SPDX-License-Identifier: GPL-2.0-only
// The SPTEs the x86 walker builds, and what it asks of an SPTE, written from Linux 6.12's
// observable behaviour (spte.c make_spte, make_nonleaf_spte, make_mmio_spte,
// mark_spte_for_access_track, make_huge_page_split_spte; spte.h's predicates) over the bits of
// x86_ept.h. Like walker/descriptor_ops.h, everything is arithmetic over a bit domain D
// (walker::IntegerBits here, Z3 bit-vectors in a proof): the configuration, the level and the
// fault's flags stay plain C++ values, so a proof covers each of them in turn.
#pragma once

#include <cstdint>

#include "mmu/format/x86_ept.h"
#include "mmu/walker/descriptor_ops.h"

namespace mmudiff::walker_x86 {

namespace ept = x86ept;

// What KVM's EPT masks depend on (kvm_mmu_set_ept_masks, the nx_huge_pages mitigation).
struct EptMasks {
  bool ad = true;
  bool execonly = true;
  bool nx_huge_pages = false;
};

// shadow_present_mask: R too without execute-only support, so no SPTE is X-only.
inline constexpr uint64_t present_mask(const EptMasks& m) {
  return (m.execonly ? 0 : ept::kRead) | ept::kSuppressVe;
}
// With A/D bits an SPTE ages through bit 8 and dirties through bit 9; without them, through
// access tracking and write protection.
inline constexpr uint64_t accessed_mask(const EptMasks& m) {
  return m.ad ? ept::kAccessed : 0;
}
inline constexpr uint64_t dirty_mask(const EptMasks& m) {
  return m.ad ? ept::kDirty : 0;
}
inline constexpr uint64_t pages_per_entry(unsigned level) {
  return ept::level_size(level) / ept::kPageSize;
}

template <class D>
using Word = typename D::Word;
template <class D>
using Bool = typename D::Bool;

template <class D>
constexpr Bool<D> spte_present(const D& d, Word<D> spte) {
  return d.any(spte & d.lit(ept::kMmuPresent));
}
template <class D>
constexpr Bool<D> spte_large(const D& d, Word<D> spte) {
  return d.any(spte & d.lit(ept::kLargePage));
}
template <class D>
constexpr Bool<D> spte_last(const D& d, Word<D> spte, unsigned level) {
  if (level == ept::kPageLevel) return d.any(d.lit(1));
  return spte_large(d, spte);
}
template <class D>
constexpr Bool<D> spte_writable(const D& d, Word<D> spte) {
  return d.any(spte & d.lit(ept::kWrite));
}
template <class D>
constexpr Bool<D> spte_ad_enabled(const D& d, Word<D> spte) {
  return d.any((spte & d.lit(ept::kAdStateMask)) ^ d.lit(ept::kAdDisabled));
}
template <class D>
constexpr Bool<D> spte_access_tracked(const D& d, Word<D> spte) {
  return !spte_ad_enabled(d, spte) && !d.any(spte & d.lit(ept::kRwxMask));
}
// The accessed bit where the SPTE has one, else "not access-tracked".
template <class D>
constexpr Bool<D> spte_accessed(const D& d, const EptMasks& m, Word<D> spte) {
  const Bool<D> has_bit = spte_ad_enabled(d, spte) && d.any(d.lit(accessed_mask(m)));
  return (has_bit && d.any(spte & d.lit(accessed_mask(m)))) ||
         (!has_bit && !spte_access_tracked(d, spte));
}
template <class D>
constexpr Bool<D> spte_dirty(const D& d, const EptMasks& m, Word<D> spte) {
  const Bool<D> has_bit = spte_ad_enabled(d, spte) && d.any(d.lit(dirty_mask(m)));
  return (has_bit && d.any(spte & d.lit(dirty_mask(m)))) || (!has_bit && spte_writable(d, spte));
}
// KVM's MMIO SPTEs: W+X without R or the suppress-#VE bit.
template <class D>
constexpr Bool<D> spte_mmio(const D& d, Word<D> spte) {
  return !d.any((spte & d.lit(ept::kMmioMask | ept::kSuppressVe)) ^ d.lit(ept::kMmioValue));
}
template <class D>
constexpr Bool<D> spte_frozen(const D& d, Word<D> spte) {
  return !d.any(spte ^ d.lit(ept::kFrozen));
}

// Access tracking without A/D bits: R and X move to the saved bits and RWX is cleared, so the
// next access faults; with A/D bits, clearing A is enough.
template <class D>
constexpr Word<D> mark_access_tracked(const D& d, Word<D> spte) {
  const Word<D> saved = d.shl(spte & d.lit(ept::kAccTrackSavedBits), ept::kAccTrackSavedShift);
  const Word<D> tracked = (spte | saved) & ~d.lit(ept::kRwxMask);
  return d.select(spte_ad_enabled(d, spte), spte & ~d.lit(ept::kAccessed),
                  d.select(spte_access_tracked(d, spte), spte, tracked));
}

template <class D>
constexpr Word<D> restore_access_tracked(const D& d, Word<D> spte) {
  const auto saved = [&](uint64_t bit) {
    return d.select(d.any(spte & d.lit(bit << ept::kAccTrackSavedShift)), d.lit(bit), d.lit(0));
  };
  return (spte & ~d.lit(ept::kRwxMask | ept::kAccTrackSavedMask)) | saved(ept::kRead) |
         saved(ept::kExec);
}

// A leaf for a fault (make_spte with ACC_ALL, as the TDP MMU asks): pfn at LEVEL, readable,
// executable unless the NX mitigation forbids executable huge pages, writable when the host
// mapping is, accessed unless prefetched, dirty when writable unless it already was a writable
// leaf. host_mmio: the pfn is host MMIO, mapped uncached rather than write-back.
template <class D>
constexpr Word<D> make_leaf_spte(const D& d, const EptMasks& m, unsigned level, Word<D> pfn,
                                 Word<D> old_spte, bool prefetch, bool host_writable,
                                 Bool<D> host_mmio) {
  uint64_t fixed = ept::kMmuPresent | present_mask(m) | ept::kRead;
  if (!m.ad) fixed |= ept::kAdDisabled;
  if (!prefetch) fixed |= accessed_mask(m);
  if (level == ept::kPageLevel || !m.nx_huge_pages) fixed |= ept::kExec;
  if (level > ept::kPageLevel) fixed |= ept::kLargePage;
  if (host_writable) fixed |= ept::kHostWritable | ept::kWrite | ept::kMmuWritable;
  Word<D> spte = d.lit(fixed) | d.shl(pfn, ept::kPageShift);
  spte =
      spte | d.select(host_mmio, d.lit(uint64_t{ept::kMemTypeUc} << ept::kMemTypeShift),
                      d.lit((uint64_t{ept::kMemTypeWb} << ept::kMemTypeShift) | ept::kIgnorePat));
  if (host_writable) {
    // A writable leaf rewritten writable is not made dirty: make_spte skips the dirty bit (and
    // so clears it). Whether the SPTE has a dirty bit is read from the SPTE as built, the pfn
    // included: a pfn reaching into bits 52-53 changes its A/D state.
    const Bool<D> was_writable_leaf = spte_last(d, old_spte, level) && spte_writable(d, old_spte);
    const Bool<D> has_dirty_bit = spte_ad_enabled(d, spte) && d.any(d.lit(dirty_mask(m)));
    spte = spte | d.select(has_dirty_bit && !was_writable_leaf, d.lit(dirty_mask(m)), d.lit(0));
  }
  if (prefetch) spte = mark_access_tracked(d, spte);
  return spte;
}

// A table entry: everything allowed, the child decides (make_nonleaf_spte).
template <class D>
constexpr Word<D> make_table_spte(const D& d, const EptMasks& m, Word<D> child_pa) {
  const uint64_t fixed = ept::kMmuPresent | present_mask(m) | ept::kRwxMask |
                         (m.ad ? ept::kAccessed : ept::kAdDisabled);
  return d.lit(fixed) | (child_pa & d.lit(ept::kAddrMask));
}

// An MMIO SPTE for a gfn outside every memslot (memslot generation 0, no access bits for EPT).
template <class D>
constexpr Word<D> make_mmio_spte(const D& d, Word<D> gfn) {
  return d.lit(ept::kMmioValue) | d.shl(gfn, ept::kPageShift);
}

// Child INDEX of a huge leaf split into a table at CHILD_LEVEL: the same SPTE for its part of
// the range, a 4 KiB page at level 1, where the NX mitigation no longer forbids execution.
template <class D>
constexpr Word<D> make_split_child_spte(const D& d, const EptMasks& m, Word<D> huge_spte,
                                        unsigned child_level, unsigned index) {
  Word<D> child =
      huge_spte | d.lit((uint64_t{index} * pages_per_entry(child_level)) << ept::kPageShift);
  if (child_level != ept::kPageLevel) return child;
  child = child & ~d.lit(ept::kLargePage);
  if (!m.nx_huge_pages) return child;
  const Bool<D> tracked = spte_access_tracked(d, child);
  const Word<D> exec =
      d.select(tracked, restore_access_tracked(d, child), child) | d.lit(ept::kExec);
  return d.select(tracked, mark_access_tracked(d, exec), exec);
}

}  // namespace mmudiff::walker_x86
