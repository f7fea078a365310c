// SPDX-License-Identifier: GPL-2.0-only
// Every descriptor the walker builds or updates, as arithmetic over a bit-vector domain D, so
// that the same source runs on integers here and on Z3 bit-vectors in models/, where it is
// proved correct for all inputs (see models/README.md). pte.h, attributes.h and leaf_attrs.cpp
// use it through IntegerBits; nothing here reads or writes table memory.
//
// A domain D provides:
//   D::Word   a 64-bit value (a descriptor, a prot, an address)
//   D::Bool   a condition on Words
//   lit(c)    the constant c as a Word
//   any(w)    w has a bit set
//   select(c, a, b)   a where c holds, else b
//   shl(w, n) w shifted left by n
// and the operators & | ^ ~ on Words and && || ! on Bools. Levels, FWB and the plant stay plain
// C++ values: a proof covers each of their values in turn.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"
#include "mmu/plants.h"

namespace mmudiff::walker {

// The walker's own domain: 64-bit integers, evaluated as usual.
struct IntegerBits {
  using Word = uint64_t;
  using Bool = bool;
  static constexpr Word lit(uint64_t v) { return v; }
  static constexpr Bool any(Word w) { return w != 0; }
  static constexpr Word select(Bool c, Word a, Word b) { return c ? a : b; }
  static constexpr Word shl(Word w, unsigned n) { return w << n; }
};
inline constexpr IntegerBits kIntegerBits{};

inline constexpr uint64_t memattr_field(uint64_t memattr) {
  return memattr << arm64s2::kMemAttrShift;
}

// Output addresses at or above the PA size cannot be mapped; map treats them as "no address".
// The PA size is 48 bits, 52 on a table with FEAT_LPA2 (lpa2).
template <class D>
constexpr typename D::Bool phys_in_pa_range(const D& d, typename D::Word pa, bool lpa2) {
  const unsigned pa_bits = lpa2 ? arm64s2::kPaBitsLpa2 : arm64s2::kPaBits;
  return !d.any(pa & d.lit(~(arm64s2::bit(pa_bits) - 1)));
}

// The address field of a descriptor for pa (a leaf's output address, or a table's next level):
// PA[47:12] in place; with FEAT_LPA2 PA[49:12] in place and PA[51:50] moved down to bits 9:8.
template <class D>
constexpr typename D::Word address_field(const D& d, typename D::Word pa, bool lpa2,
                                         Plant plant = Plant::kNone) {
  if (!lpa2) return pa & d.lit(arm64s2::kOaMask);
  const auto moved = [&](unsigned from, unsigned to) {
    return d.select(d.any(pa & d.lit(arm64s2::bit(from))), d.lit(arm64s2::bit(to)), d.lit(0));
  };
  typename D::Word field = pa & d.lit(arm64s2::kOaMaskLpa2);
  // Planted: PA[51:50] are left out, as an encoder written for 48-bit PAs plus two would.
  if (plant == Plant::kWalker612Lpa2PaBits5150) return field;
  return field | moved(50, 8) | moved(51, 9);
}

template <class D>
constexpr typename D::Word build_table_pte(const D& d, typename D::Word child_pa, bool lpa2) {
  return address_field(d, child_pa, lpa2) | d.lit(arm64s2::kTypeBit | arm64s2::kValid);
}

// attr may carry anything; only the leaf attribute fields reach the descriptor (with FEAT_LPA2
// not bits 9:8, which are then the output address's).
template <class D>
constexpr typename D::Word build_leaf_pte(const D& d, typename D::Word pa, typename D::Word attr,
                                          unsigned level, Plant plant, bool lpa2) {
  const uint64_t type = level == arm64s2::kLastLevel ? arm64s2::kTypeBit : 0;
  const uint64_t attr_fields =
      (arm64s2::kLeafAttrLo | arm64s2::kLeafAttrHi) & ~(lpa2 ? arm64s2::kOaHighMaskLpa2 : 0);
  typename D::Word pte = address_field(d, pa, lpa2, plant) | (attr & d.lit(attr_fields)) |
                         d.lit(type | arm64s2::kValid);
  // Planted: level-2 blocks carry bit 11, which is nG at stage 1 and RES0 at stage 2 -- a
  // stage-1 attribute leaking into a stage-2 descriptor.
  if (plant == Plant::kWalkerReservedBit && level == 2) pte = pte | d.lit(arm64s2::kBit11);
  return pte;
}

// An invalid descriptor that records which entity owns the page; owner 0 is the table's owner
// and so encodes as an empty entry.
template <class D>
constexpr typename D::Word build_owner_pte(const D& d, typename D::Word owner_id) {
  return d.shl(owner_id, arm64s2::kOwnerShift) & d.lit(arm64s2::kOwnerMask);
}

// The leaf attributes map installs for prot. Not allowed: executable device memory, which the
// architecture does not let a guest have (map returns -EINVAL). normal_nc: the kernel knows
// KVM_PGTABLE_PROT_NORMAL_NC (6.12; 6.1 ignores the bit): normal non-cacheable memory, which is
// never executable and never device too.
template <class D>
struct LeafAttrs {
  typename D::Bool allowed;
  typename D::Word attr;
};

// With FEAT_LPA2 (lpa2) there is no SH field: VTCR_EL2.DS moves the shareability to VTCR_EL2.
template <class D>
constexpr LeafAttrs<D> build_leaf_attrs(const D& d, typename D::Word prot, bool fwb, bool lpa2,
                                        bool normal_nc = false) {
  namespace p = arm64s2::prot;
  const auto has = [&](uint64_t bit) { return d.any(prot & d.lit(bit)); };
  const auto bit_if = [&](typename D::Bool c, uint64_t bit) {
    return d.select(c, d.lit(bit), d.lit(0));
  };
  const typename D::Bool device = has(p::kDevice);
  const typename D::Bool exec = has(p::kX);
  const typename D::Bool nc = has(normal_nc ? p::kNormalNc : 0);
  typename D::Word attr =
      d.select(device, d.lit(memattr_field(arm64s2::mem_attr_device(fwb))),
               d.select(nc, d.lit(memattr_field(arm64s2::mem_attr_normal_nc(fwb))),
                        d.lit(memattr_field(arm64s2::mem_attr_normal(fwb)))));
  attr = attr | bit_if(!exec, arm64s2::kXn);
  attr = attr | bit_if(has(p::kR), arm64s2::kS2apR) | bit_if(has(p::kW), arm64s2::kS2apW);
  if (!lpa2) attr = attr | d.lit(arm64s2::kShInner << arm64s2::kShShift);
  attr = attr | d.lit(arm64s2::kAf);
  attr = attr | (prot & d.lit(p::kSwMask));
  return {!(exec && (device || nc)) && !(device && nc), attr};
}

// An in-place update of a valid leaf: bits to set and bits to clear, limited to the leaf
// attribute fields, so the output address and the type never change.
template <class D>
struct AttrChange {
  typename D::Word set;
  typename D::Word clear;
};

template <class D>
constexpr typename D::Word apply_attr_change(const D& d, typename D::Word old,
                                             const AttrChange<D>& change) {
  const typename D::Word fields = d.lit(arm64s2::kLeafAttrLo | arm64s2::kLeafAttrHi);
  return (old & ~(change.clear & fields)) | (change.set & fields);
}

template <class D>
constexpr AttrChange<D> wrprotect_change(const D& d, Plant plant) {
  typename D::Word clear = d.lit(arm64s2::kS2apW);
  // Planted: a permission change drops the access flag, as a lost A/D-bit update would.
  if (plant == Plant::kWalkerLoseAccessFlag) clear = clear | d.lit(arm64s2::kAf);
  return {d.lit(0), clear};
}

template <class D>
constexpr AttrChange<D> mkyoung_change(const D& d) {
  return {d.lit(arm64s2::kAf), d.lit(0)};
}

template <class D>
constexpr AttrChange<D> mkold_change(const D& d) {
  return {d.lit(0), d.lit(arm64s2::kAf)};
}

// relax_perms takes no software bits: -EINVAL, and nothing is walked.
template <class D>
constexpr typename D::Bool relax_perms_refuses(const D& d, typename D::Word prot) {
  return d.any(prot & d.lit(arm64s2::prot::kSwMask));
}

// Only ever adds permissions: R and W are set, XN is cleared, nothing is taken away.
template <class D>
constexpr AttrChange<D> relax_perms_change(const D& d, typename D::Word prot, Plant plant) {
  namespace p = arm64s2::prot;
  const auto bit_if = [&](uint64_t prot_bit, uint64_t pte_bit) {
    return d.select(d.any(prot & d.lit(prot_bit)), d.lit(pte_bit), d.lit(0));
  };
  typename D::Word clear = bit_if(p::kX, arm64s2::kXn);
  if (plant == Plant::kWalkerLoseAccessFlag) clear = clear | d.lit(arm64s2::kAf);
  return {bit_if(p::kR, arm64s2::kS2apR) | bit_if(p::kW, arm64s2::kS2apW), clear};
}

}  // namespace mmudiff::walker
