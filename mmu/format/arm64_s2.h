// SPDX-License-Identifier: GPL-2.0-only
// Arm64 stage-2 translation table format, 4 KiB granule: the bit layout and the geometry that
// VTCR_EL2 gives a table. This is the only thing the backends share: constants and pure
// arithmetic on descriptors, no page-table logic.
#pragma once

#include <cstdint>

#include "mmu/format/format.h"

namespace mmudiff::arm64s2 {

inline constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}
inline constexpr uint64_t genmask(unsigned hi, unsigned lo) {
  return (~uint64_t{0} >> (63 - hi)) & (~uint64_t{0} << lo);
}

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = bit(kPageShift);
inline constexpr unsigned kLevels = 4;         // levels 0..3
inline constexpr unsigned kLastLevel = 3;      // pages live here
inline constexpr unsigned kMinBlockLevel = 1;  // 1 GiB blocks are the largest with 4 KiB
inline constexpr unsigned kEntriesPerTable = 512;
inline constexpr unsigned kMinIaBits = 32;
inline constexpr unsigned kMaxIaBits = 48;
inline constexpr unsigned kPaBits = 48;  // no FEAT_LPA: OA is [47:12]
// FEAT_LPA2 with VTCR_EL2.DS = 1 (Linux 6.12's kvm_lpa2_is_enabled()): 52-bit OAs, OA[49:12] in
// bits [49:12] and OA[51:50] in bits [9:8], the same in table descriptors for the next-level
// table; a leaf then has no SH field (VTCR_EL2.SH0 gives the shareability). The IPA stays at most
// kMaxIaBits here: level -1 is not modelled.
inline constexpr unsigned kPaBitsLpa2 = 52;
inline constexpr unsigned kMaxPgdPages = 16;
// The most pages one range TLBI (FEAT_TLBIRANGE, e.g. TLBI RIPAS2E1IS) can name with a 4 KiB
// granule: (NUM + 1) << (5 * SCALE + 1) at NUM = 31, SCALE = 3 (Linux: MAX_TLBI_RANGE_PAGES).
inline constexpr uint64_t kMaxTlbiRangePages = uint64_t{32} << 16;

// Descriptor bits. Names follow the Arm ARM; the kernel's KVM_PTE_* names are given where they
// differ so a reader of pgtable.c can find them.
inline constexpr uint64_t kValid = bit(0);
inline constexpr uint64_t kTypeBit = bit(1);  // table (levels 0-2) or page (level 3)
inline constexpr uint64_t kMemAttrMask = genmask(5, 2);
inline constexpr unsigned kMemAttrShift = 2;
inline constexpr uint64_t kS2apR = bit(6);
inline constexpr uint64_t kS2apW = bit(7);
inline constexpr uint64_t kShMask = genmask(9, 8);
inline constexpr unsigned kShShift = 8;
inline constexpr uint64_t kShInner = 3;
inline constexpr uint64_t kAf = bit(10);
inline constexpr uint64_t kBit11 = bit(11);                 // nG at stage 1; RES0 at stage 2
inline constexpr uint64_t kOaMask = genmask(47, 12);        // KVM_PTE_ADDR_MASK
inline constexpr uint64_t kHighRes0Mask = genmask(50, 48);  // OA[51:48] without FEAT_LPA
inline constexpr uint64_t kOaMaskLpa2 = genmask(49, 12);    // KVM_PTE_ADDR_MASK_LPA2
inline constexpr uint64_t kOaHighMaskLpa2 = genmask(9, 8);  // KVM_PTE_ADDR_51_50_LPA2
inline constexpr unsigned kOaHighShiftLpa2 = 8;             // where OA[51:50] goes down to
inline constexpr unsigned kOaHighFirstBitLpa2 = 50;         // OA[51:50]
inline constexpr uint64_t kHighRes0MaskLpa2 = bit(50);      // bit 50 is still RES0 at stage 2
inline constexpr uint64_t kDbm = bit(51);
inline constexpr uint64_t kContiguous = bit(52);
inline constexpr uint64_t kXnMask = genmask(54, 53);  // S2 XN[1:0]; KVM writes XN[1] only
inline constexpr uint64_t kXn = bit(54);              // KVM_PTE_LEAF_ATTR_HI_S2_XN
inline constexpr uint64_t kSwMask = genmask(58, 55);  // KVM_PTE_LEAF_ATTR_HI_SW
inline constexpr unsigned kSwShift = 55;
inline constexpr uint64_t kIgnoredHighMask = genmask(63, 59);  // PBHA and IGNORED
inline constexpr uint64_t kLeafAttrLo = genmask(11, 2);
inline constexpr uint64_t kLeafAttrHi = genmask(63, 51);
inline constexpr uint64_t kOwnerMask = genmask(9, 2);  // KVM_INVALID_PTE_OWNER_MASK
inline constexpr unsigned kOwnerShift = 2;
inline constexpr unsigned kMaxOwnerId = 1;

// Stage-2 MemAttr encodings (MT_S2_* and MT_S2_FWB_* in the kernel).
inline constexpr uint64_t kMemAttrNormal = 0xf;
inline constexpr uint64_t kMemAttrDevice = 0x1;
inline constexpr uint64_t kMemAttrNormalFwb = 0x6;
inline constexpr uint64_t kMemAttrDeviceFwb = 0x1;
// Normal non-cacheable (Linux 6.12's KVM_PGTABLE_PROT_NORMAL_NC): outer and inner NC without FWB;
// with FWB, MemAttr[2] set (normal) and [1:0] = 01 (non-cacheable). The same value either way.
inline constexpr uint64_t kMemAttrNormalNc = 0x5;
inline constexpr uint64_t kMemAttrNormalNcFwb = 0x5;

// kvm_pgtable_prot bits: the prot argument of map and relax_perms.
namespace prot {
inline constexpr uint64_t kX = bit(0);
inline constexpr uint64_t kW = bit(1);
inline constexpr uint64_t kR = bit(2);
inline constexpr uint64_t kDevice = bit(3);
// KVM_PGTABLE_PROT_NORMAL_NC: Linux 6.12 only (6.1 ignores the bit), so not in kAll.
inline constexpr uint64_t kNormalNc = bit(4);
inline constexpr uint64_t kSwMask = genmask(58, 55);
inline constexpr uint64_t kAll = kX | kW | kR | kDevice | kSwMask;
}  // namespace prot

inline constexpr unsigned granule_shift(unsigned level) {
  return kPageShift + 9 * (kLastLevel - level);
}
inline constexpr uint64_t granule_size(unsigned level) {
  return bit(granule_shift(level));
}
inline constexpr unsigned table_index(uint64_t addr, unsigned level) {
  return static_cast<unsigned>((addr >> granule_shift(level)) & (kEntriesPerTable - 1));
}
inline constexpr bool level_supports_block(unsigned level) {
  return level >= kMinBlockLevel && level <= kLastLevel;
}

// What VTCR_EL2 gives a stage-2 table of ia_bits: the number of levels (never fewer than two), the
// start level and how many concatenated pages the start level has.
struct Geometry {
  unsigned ia_bits;
  unsigned start_level;
  unsigned pgd_pages;

  uint64_t ia_limit() const { return bit(ia_bits); }
};

inline constexpr unsigned levels_for_ia_bits(unsigned ia_bits) {
  // ARM64_HW_PGTABLE_LEVELS(ia_bits - 4): up to 16 concatenated pages at the start level.
  unsigned levels = (ia_bits - 8) / 9;
  return levels < 2 ? 2 : levels;
}

inline constexpr Geometry geometry_for(unsigned ia_bits) {
  unsigned start = kLevels - levels_for_ia_bits(ia_bits);
  unsigned per_page_shift = granule_shift(start) + 9;
  unsigned pages = ia_bits > per_page_shift ? 1u << (ia_bits - per_page_shift) : 1u;
  return Geometry{ia_bits, start, pages};
}

inline constexpr bool valid_ia_bits(unsigned ia_bits) {
  return ia_bits >= kMinIaBits && ia_bits <= kMaxIaBits;
}

// The format-neutral kinds (mmu/format/format.h), so arm64s2::DescriptorKind keeps working.
using mmudiff::DescriptorKind;

inline constexpr DescriptorKind classify(uint64_t desc, unsigned level) {
  if (!(desc & kValid)) return DescriptorKind::Invalid;
  bool type = desc & kTypeBit;
  if (level == kLastLevel) return type ? DescriptorKind::Page : DescriptorKind::Reserved;
  if (type) return DescriptorKind::Table;
  return level_supports_block(level) ? DescriptorKind::Block : DescriptorKind::Reserved;
}

inline constexpr bool is_leaf_kind(DescriptorKind k) {
  return k == DescriptorKind::Block || k == DescriptorKind::Page;
}

inline constexpr uint64_t output_address(uint64_t desc) {
  return desc & kOaMask;
}
// The same with FEAT_LPA2 (DS = 1): OA[51:50] come from bits [9:8].
inline constexpr uint64_t output_address_lpa2(uint64_t desc) {
  return (desc & kOaMaskLpa2) |
         (((desc & kOaHighMaskLpa2) >> kOaHighShiftLpa2) << kOaHighFirstBitLpa2);
}
inline constexpr uint64_t output_address(uint64_t desc, bool lpa2) {
  return lpa2 ? output_address_lpa2(desc) : output_address(desc);
}

// Bits that hold the next-level table address in a table descriptor: what Deacon's check masks.
inline constexpr uint64_t table_address_mask() {
  return kOaMask;
}
inline constexpr uint64_t table_address_mask(bool lpa2) {
  return lpa2 ? kOaMaskLpa2 | kOaHighMaskLpa2 : kOaMask;
}

// Bit packing of descriptor fields: the inverse of decode_descriptor, for tests, models and
// seeds. Layout only: which fields an operation sets is each backend's own logic. Values wider
// than their field are cut to it.
struct LeafFields {
  uint64_t oa = 0;       // output address, bits [47:12]
  uint8_t mem_attr = 0;  // MemAttr[3:0], bits [5:2]
  bool s2ap_r = false;   // S2AP[0], bit 6
  bool s2ap_w = false;   // S2AP[1], bit 7
  uint8_t sh = 0;        // SH[1:0], bits [9:8]
  bool af = false;       // bit 10
  bool xn = false;       // XN[1], bit 54: the only XN bit KVM writes
  uint8_t sw = 0;        // software bits [58:55]
};

// A block at level 1 or 2 (bit 1 clear) or a page at level 3 (bit 1 set).
inline constexpr uint64_t make_leaf(unsigned level, const LeafFields& f) {
  return kValid | (level == kLastLevel ? kTypeBit : 0) | (f.oa & kOaMask) |
         ((uint64_t{f.mem_attr} << kMemAttrShift) & kMemAttrMask) | (f.s2ap_r ? kS2apR : 0) |
         (f.s2ap_w ? kS2apW : 0) | ((uint64_t{f.sh} << kShShift) & kShMask) | (f.af ? kAf : 0) |
         (f.xn ? kXn : 0) | ((uint64_t{f.sw} << kSwShift) & kSwMask);
}

// A table descriptor: the next-level table's address and the two type bits, nothing else.
inline constexpr uint64_t make_table(uint64_t table_pa) {
  return (table_pa & kOaMask) | kTypeBit | kValid;
}

// An invalid descriptor annotated with an owner id (KVM_INVALID_PTE_OWNER_MASK).
inline constexpr uint64_t make_owner_annotation(unsigned owner) {
  return (uint64_t{owner} << kOwnerShift) & kOwnerMask;
}
inline constexpr unsigned owner_of(uint64_t desc) {
  return static_cast<unsigned>((desc & kOwnerMask) >> kOwnerShift);
}

inline constexpr uint64_t mem_attr_normal(bool fwb) {
  return fwb ? kMemAttrNormalFwb : kMemAttrNormal;
}
inline constexpr uint64_t mem_attr_normal_nc(bool fwb) {
  return fwb ? kMemAttrNormalNcFwb : kMemAttrNormalNc;
}
inline constexpr uint64_t mem_attr_device(bool fwb) {
  return fwb ? kMemAttrDeviceFwb : kMemAttrDevice;
}

// Bits that must be zero in a descriptor KVM writes, by kind. Leaf: bit 11, OA[51:48], DBM,
// contiguous, XN[0] (bit 53) and bits 59-63; a block's OA must be aligned to its granule.
// Table: everything but the address and the two type bits.
inline constexpr uint64_t leaf_reserved_mask(unsigned level) {
  uint64_t m = kBit11 | kHighRes0Mask | kDbm | kContiguous | bit(53) | kIgnoredHighMask;
  if (level < kLastLevel) m |= genmask(granule_shift(level) - 1, kPageShift);
  return m;
}
inline constexpr uint64_t table_reserved_mask() {
  return ~(kOaMask | kValid | kTypeBit);
}
// With FEAT_LPA2, OA[49:48] are address bits; bit 50 stays RES0.
inline constexpr uint64_t leaf_reserved_mask(unsigned level, bool lpa2) {
  return lpa2 ? (leaf_reserved_mask(level) & ~kHighRes0Mask) | kHighRes0MaskLpa2
              : leaf_reserved_mask(level);
}
inline constexpr uint64_t table_reserved_mask(bool lpa2) {
  return ~(table_address_mask(lpa2) | kValid | kTypeBit);
}

}  // namespace mmudiff::arm64s2
