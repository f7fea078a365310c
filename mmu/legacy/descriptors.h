// SPDX-License-Identifier: GPL-2.0-only
// How the legacy backend encodes and reads stage-2 descriptors. Only the bit positions come from
// the shared format layer; every rule about which bits go where is written out here again, so a
// mistake in another backend's encoder cannot hide behind a shared helper. The encoders
// themselves live in descriptor_ops.h, where models/ proves them; these are their integer forms.
#pragma once

#include <cstdint>
#include <optional>

#include "mmu/format/arm64_s2.h"
#include "mmu/legacy/descriptor_ops.h"
#include "mmu/legacy/generation.h"
#include "mmu/plants.h"

namespace mmudiff::legacy {

using namespace arm64s2;

// The PA map uses for "no frame": with it, map writes owner annotations instead of leaves.
inline constexpr uint64_t kInvalidPhys = ~uint64_t{0};

// Bits a permission change may touch without the mapping counting as different.
inline constexpr uint64_t kPermissionBits = kS2apR | kS2apW | kXn;

inline bool pa_is_valid(uint64_t pa, AddressLayout layout) {
  return pa_below_pa_size(kIntegers, pa, layout);
}

inline bool is_valid(uint64_t desc) {
  return desc & kValid;
}
// A table pointer can only sit above the last level; at level 3 the same bits mean "page".
inline bool is_table(uint64_t desc, unsigned level) {
  return level < kLastLevel && is_valid(desc) && (desc & kTypeBit);
}
inline bool is_valid_leaf(uint64_t desc, unsigned level) {
  return is_valid(desc) && !is_table(desc, level);
}

// 6.12's entry between break and make: invalid, and holding no reference on its page.
inline bool is_locked(uint64_t desc) {
  return !is_valid(desc) && (desc & kLockedPte);
}
// Every non-zero entry holds a reference on its table page (owner annotations too), except a
// locked one: the break dropped the old entry's reference and the make takes the new one's.
inline bool holds_reference(uint64_t desc) {
  return desc && !is_locked(desc);
}

// The frame of a leaf or the page of a table descriptor: with LPA2 its PA[51:50] are bits [9:8].
inline uint64_t output_pa(uint64_t desc, AddressLayout layout) {
  if (layout == AddressLayout::Pa48) return desc & kOaMask;
  return (desc & kOaMaskLpa2) | ((desc >> kOaHighShiftLpa2) & 3) << kOaHighFirstBitLpa2;
}

inline uint64_t table_descriptor(uint64_t table_pa, AddressLayout layout) {
  return encode_table(kIntegers, table_pa, layout);
}

// The attribute half of a leaf for a map's prot; nullopt for executable device memory, which
// stage 2 refuses (-EINVAL).
inline std::optional<uint64_t> leaf_attributes(uint64_t prot_bits, bool fwb, AddressLayout layout,
                                               Plant plant, bool normal_nc = false) {
  const EncodedAttributes<Integers> e =
      encode_attributes(kIntegers, prot_bits, fwb, layout, plant, normal_nc);
  if (e.refused) return std::nullopt;
  return e.attrs;
}

// A block above the last level, a page at it: bit 1 tells them apart.
inline uint64_t leaf_descriptor(uint64_t pa, uint64_t attrs, unsigned level, AddressLayout layout) {
  return encode_leaf(kIntegers, pa, attrs, level, layout);
}

// An invalid descriptor recording which entity owns the page; owner 0 (the table's owner) is 0.
inline uint64_t owner_descriptor(uint8_t owner) {
  return encode_owner(kIntegers, uint64_t{owner});
}

// Two valid leaves that differ only in permissions are "the same mapping": map refuses to
// rewrite one with the other and leaves permission changes to relax_perms.
inline bool same_mapping_but_permissions(uint64_t old_desc, uint64_t new_desc) {
  return is_valid(old_desc) && is_valid(new_desc) && !((old_desc ^ new_desc) & ~kPermissionBits);
}

// Whether two descriptors differ in software bits at most: the hardware would translate with
// either the same way (two identical invalid descriptors included).
inline bool only_software_bits_differ(uint64_t old_desc, uint64_t new_desc) {
  return !((old_desc ^ new_desc) & ~kSwMask);
}

// What the kernel calls "cacheable": the MemAttr field alone decides, whatever the valid bit
// says, so an owner annotation is never cacheable but is looked at all the same.
inline bool mem_attr_is_normal(uint64_t desc, bool fwb) {
  return ((desc & kMemAttrMask) >> kMemAttrShift) == mem_attr_normal(fwb);
}

// XN clear: true of every invalid descriptor too, which is why installing an owner annotation
// invalidates the instruction cache for "PA 0".
inline bool is_executable(uint64_t desc) {
  return !(desc & kXn);
}

}  // namespace mmudiff::legacy
