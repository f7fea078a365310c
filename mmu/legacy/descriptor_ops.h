// SPDX-License-Identifier: GPL-2.0-only
// The legacy backend's descriptor encoders and in-place updates, written once over a bit-vector
// domain so that models/ can run this very source on Z3 bit-vectors and prove it for all inputs,
// while descriptors.h and leaf_attrs.cpp run it on integers (Integers below).
//
// A domain D provides D::Word (64 bits) and D::Bool, the operators & | ^ ~ on Words and && || !
// on Bools, and lit(constant), any(word) (some bit set), select(cond, a, b), shl(word, n).
// Levels, FWB and the plant are plain values: a proof takes each in turn.
#pragma once

#include <cstdint>

#include "mmu/format/arm64_s2.h"
#include "mmu/plants.h"

namespace mmudiff::legacy {

struct Integers {
  using Word = uint64_t;
  using Bool = bool;
  static constexpr Word lit(uint64_t v) { return v; }
  static constexpr Bool any(Word w) { return w != 0; }
  static constexpr Word select(Bool c, Word a, Word b) { return c ? a : b; }
  static constexpr Word shl(Word w, unsigned n) { return w << n; }
};
inline constexpr Integers kIntegers{};

// Bits a leaf attribute update may set or clear.
inline constexpr uint64_t kLeafAttributeBits = arm64s2::kLeafAttrLo | arm64s2::kLeafAttrHi;

// How a table lays out its addresses: 48-bit PAs in bits [47:12], or FEAT_LPA2's 52-bit PAs
// with PA[51:50] in bits [9:8] (VTCR_EL2.DS = 1), where a leaf then has no SH field.
enum class AddressLayout : bool { Pa48, Lpa2 };

// A frame below the PA size; anything else maps nothing.
template <class D>
constexpr typename D::Bool pa_below_pa_size(const D& d, typename D::Word pa, AddressLayout layout) {
  const unsigned pa_bits = layout == AddressLayout::Lpa2 ? arm64s2::kPaBitsLpa2 : arm64s2::kPaBits;
  return !d.any(pa & d.lit(~(arm64s2::bit(pa_bits) - 1)));
}

// The address bits of a descriptor for a frame or a table page.
template <class D>
constexpr typename D::Word encode_address(const D& d, typename D::Word pa, AddressLayout layout) {
  if (layout == AddressLayout::Pa48) return pa & d.lit(arm64s2::kOaMask);
  const typename D::Word zero = d.lit(0);
  const typename D::Word bit50 =
      d.select(d.any(pa & d.lit(arm64s2::bit(50))), d.lit(arm64s2::bit(8)), zero);
  const typename D::Word bit51 =
      d.select(d.any(pa & d.lit(arm64s2::bit(51))), d.lit(arm64s2::bit(9)), zero);
  return (pa & d.lit(arm64s2::kOaMaskLpa2)) | bit50 | bit51;
}

template <class D>
constexpr typename D::Word encode_table(const D& d, typename D::Word table_pa,
                                        AddressLayout layout) {
  return encode_address(d, table_pa, layout) | d.lit(arm64s2::kTypeBit) | d.lit(arm64s2::kValid);
}

// A block above the last level, a page at it: bit 1 tells them apart. With LPA2 bits [9:8] of
// attrs are not the leaf's: they hold the frame's PA[51:50].
template <class D>
constexpr typename D::Word encode_leaf(const D& d, typename D::Word pa, typename D::Word attrs,
                                       unsigned level, AddressLayout layout) {
  const uint64_t type = level == arm64s2::kLastLevel ? arm64s2::kTypeBit : 0;
  const uint64_t attribute_bits =
      layout == AddressLayout::Lpa2 ? kLeafAttributeBits & ~arm64s2::kShMask : kLeafAttributeBits;
  return encode_address(d, pa, layout) | (attrs & d.lit(attribute_bits)) | d.lit(type) |
         d.lit(arm64s2::kValid);
}

// An invalid descriptor recording which entity owns the page.
template <class D>
constexpr typename D::Word encode_owner(const D& d, typename D::Word owner) {
  return d.shl(owner, arm64s2::kOwnerShift) & d.lit(arm64s2::kOwnerMask);
}

// The attribute half of a leaf for a map's prot. refused: executable device memory, which stage
// 2 does not allow (-EINVAL).
template <class D>
struct EncodedAttributes {
  typename D::Bool refused;
  typename D::Word attrs;
};

template <class D>
constexpr EncodedAttributes<D> encode_attributes(const D& d, typename D::Word prot_bits, bool fwb,
                                                 AddressLayout layout, Plant plant,
                                                 bool normal_nc = false) {
  using Word = typename D::Word;
  const typename D::Bool device = d.any(prot_bits & d.lit(arm64s2::prot::kDevice));
  const typename D::Bool exec = d.any(prot_bits & d.lit(arm64s2::prot::kX));
  const typename D::Bool readable = d.any(prot_bits & d.lit(arm64s2::prot::kR));
  const typename D::Bool writable = d.any(prot_bits & d.lit(arm64s2::prot::kW));
  // 6.12's KVM_PGTABLE_PROT_NORMAL_NC (normal_nc: the generation has it; 6.1 ignores the bit).
  const typename D::Bool non_cacheable =
      d.any(prot_bits & d.lit(normal_nc ? arm64s2::prot::kNormalNc : 0));
  typename D::Bool no_exec = !exec;
  // Planted: device memory never gets XN, so a read-write device mapping is executable.
  if (plant == Plant::kLegacyDeviceExecutable) no_exec = no_exec && !device;

  const Word zero = d.lit(0);
  // Planted: non-cacheable memory mapped with the cacheable MemAttr.
  const uint64_t nc_attr = plant == Plant::kLegacy612NcMappedCacheable
                               ? arm64s2::mem_attr_normal(fwb)
                               : arm64s2::mem_attr_normal_nc(fwb);
  Word attrs = d.select(device, d.lit(arm64s2::mem_attr_device(fwb) << arm64s2::kMemAttrShift),
                        d.select(non_cacheable, d.lit(nc_attr << arm64s2::kMemAttrShift),
                                 d.lit(arm64s2::mem_attr_normal(fwb) << arm64s2::kMemAttrShift)));
  attrs = attrs | d.select(no_exec, d.lit(arm64s2::kXn), zero);
  attrs = attrs | d.select(readable, d.lit(arm64s2::kS2apR), zero);
  attrs = attrs | d.select(writable, d.lit(arm64s2::kS2apW), zero);
  // Inner shareable, in the descriptor unless LPA2 gave its bits to the address.
  if (layout == AddressLayout::Pa48) attrs = attrs | d.lit(arm64s2::kShInner << arm64s2::kShShift);
  attrs = attrs | d.lit(arm64s2::kAf);
  attrs = attrs | (prot_bits & d.lit(arm64s2::prot::kSwMask));
  // Device or non-cacheable memory is never executable, and never both.
  return {(exec && (device || non_cacheable)) || (device && non_cacheable), attrs};
}

// What an in-place update does to a valid leaf: bits set and bits cleared, within the leaf
// attribute fields only.
template <class D>
struct LeafUpdate {
  typename D::Word set;
  typename D::Word clear;
};

template <class D>
constexpr typename D::Word apply_leaf_update(const D& d, typename D::Word old,
                                             const LeafUpdate<D>& u) {
  const typename D::Word bits = d.lit(kLeafAttributeBits);
  return (old & ~(u.clear & bits)) | (u.set & bits);
}

template <class D>
constexpr LeafUpdate<D> wrprotect_update(const D& d, Plant plant) {
  // Planted: the readable bit is taken for the writable one.
  const uint64_t writable =
      plant == Plant::kLegacyWrprotectWrongBit ? arm64s2::kS2apR : arm64s2::kS2apW;
  return {d.lit(0), d.lit(writable)};
}

template <class D>
constexpr LeafUpdate<D> mkyoung_update(const D& d) {
  return {d.lit(arm64s2::kAf), d.lit(0)};
}

template <class D>
constexpr LeafUpdate<D> mkold_update(const D& d) {
  return {d.lit(0), d.lit(arm64s2::kAf)};
}

// Software bits are not permissions: relax_perms returns -EINVAL for them.
template <class D>
constexpr typename D::Bool relax_refuses(const D& d, typename D::Word prot_bits) {
  return d.any(prot_bits & d.lit(arm64s2::prot::kSwMask));
}

// Only ever adds access: R, W, or X by clearing XN.
template <class D>
constexpr LeafUpdate<D> relax_update(const D& d, typename D::Word prot_bits) {
  const typename D::Word zero = d.lit(0);
  const auto asked = [&](uint64_t bit) { return d.any(prot_bits & d.lit(bit)); };
  return {d.select(asked(arm64s2::prot::kR), d.lit(arm64s2::kS2apR), zero) |
              d.select(asked(arm64s2::prot::kW), d.lit(arm64s2::kS2apW), zero),
          d.select(asked(arm64s2::prot::kX), d.lit(arm64s2::kXn), zero)};
}

}  // namespace mmudiff::legacy
