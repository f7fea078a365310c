// SPDX-License-Identifier: GPL-2.0-only
// The arm64 stage-2 descriptor format, 4 KiB granule, as Z3 formulas over a 64-bit descriptor:
// which encodings are valid at each level, where each field is, which bits are RES0 or must
// never be written by KVM, what the S2AP, XN and MemAttr encodings mean, and KVM's permission
// rules. Written from the Arm ARM (D8.3 "Translation table descriptor formats", stage 2) and
// KVM's rules; of mmu/format it takes bit positions only, never a mask of "reserved" bits, so the
// cross-check against the oracles' masks (cross_check.h) compares two independent readings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <z3++.h>

namespace mmudiff::models {

// The configuration a descriptor is read in: VTCR_EL2.{T0SZ, PS} and FEAT_S2FWB.
struct S2Config {
  unsigned ia_bits = 48;  // 32..48
  unsigned pa_bits = 48;  // a PARange size: 32, 36, 40, 42, 44 or 48 (no FEAT_LPA)
  bool fwb = false;
};

// The highest owner id KVM annotates pages with (KVM_MAX_OWNER_ID: the hypervisor, 1).
inline constexpr unsigned kKvmMaxOwnerId = 1;

// The PARange sizes without FEAT_LPA.
const std::vector<unsigned>& pa_sizes();
// The level a walk of ia_bits starts at, with up to 16 concatenated start-level pages.
unsigned start_level_for(unsigned ia_bits);

// A group of bits a descriptor must not set, and why.
struct ForbiddenField {
  enum class Kind { Reserved, Alignment, PaSize };
  unsigned hi;
  unsigned lo;
  std::string why;
  Kind kind = Kind::Reserved;
};

class Arm64S2Model {
 public:
  explicit Arm64S2Model(z3::context& ctx) : ctx_(ctx) {}

  // ---- Encodings ---------------------------------------------------------------------------
  z3::expr valid(const z3::expr& d) const;
  z3::expr is_table(const z3::expr& d, unsigned level) const;
  z3::expr is_block(const z3::expr& d, unsigned level) const;
  z3::expr is_page(const z3::expr& d, unsigned level) const;
  z3::expr is_leaf(const z3::expr& d, unsigned level) const;
  // Valid but neither table, block nor page: level-0 and level-3 "blocks" with bit 1 clear.
  z3::expr is_reserved_encoding(const z3::expr& d, unsigned level) const;

  // ---- Fields (64-bit values, shifted down; the OA stays an address) -----------------------
  z3::expr output_address(const z3::expr& d) const;  // bits [47:12]
  // With FEAT_LPA2 (VTCR_EL2.DS = 1): a 52-bit OA, [49:12] in place and [51:50] from bits [9:8],
  // for leaves and for a table descriptor's next-level address alike.
  z3::expr output_address_ds(const z3::expr& d) const;
  z3::expr mem_attr(const z3::expr& d) const;      // MemAttr[3:0], bits [5:2]
  z3::expr readable(const z3::expr& d) const;      // S2AP[0], bit 6
  z3::expr writable(const z3::expr& d) const;      // S2AP[1], bit 7
  z3::expr shareability(const z3::expr& d) const;  // SH[1:0], bits [9:8]
  z3::expr accessed(const z3::expr& d) const;      // AF, bit 10
  z3::expr xn(const z3::expr& d) const;            // XN[1:0], bits [54:53]
  z3::expr software(const z3::expr& d) const;      // bits [58:55]
  z3::expr owner_id(const z3::expr& d) const;      // bits [9:2] of an invalid descriptor

  // Executable at some exception level: only XN = 0b10 forbids both EL1 and EL0 (FEAT_XNX).
  z3::expr executable(const z3::expr& d) const;
  // MemAttr read as Device (any of the four types), Normal write-back (what KVM writes for
  // normal memory), or an encoding the architecture reserves.
  z3::expr device(const z3::expr& d, bool fwb) const;
  z3::expr normal_write_back(const z3::expr& d, bool fwb) const;
  // Normal Non-cacheable, inner and outer (what Linux 6.12 writes for KVM_PGTABLE_PROT_NORMAL_NC).
  z3::expr normal_non_cacheable(const z3::expr& d, bool fwb) const;
  z3::expr mem_attr_reserved(const z3::expr& d, bool fwb) const;

  // ---- What a hypervisor may write ---------------------------------------------------------
  // The fields of a leaf (block or page) at level that must be zero in configuration c, each
  // with its reason: RES0 bits, bits KVM never writes, the OA bits below a block's size, and the
  // OA bits at or above the PA size.
  std::vector<ForbiddenField> leaf_forbidden_fields(unsigned level, const S2Config& c) const;
  std::vector<ForbiddenField> table_forbidden_fields(const S2Config& c) const;
  z3::expr leaf_sets_forbidden_bit(const z3::expr& d, unsigned level, const S2Config& c) const;
  z3::expr table_sets_forbidden_bit(const z3::expr& d, const S2Config& c) const;
  // The first forbidden field d sets, for a counterexample's explanation ("" when none).
  std::string forbidden_reason(uint64_t d, unsigned level, bool table, const S2Config& c) const;

  // A leaf KVM could have written: a leaf encoding at a level that holds leaves in c, no
  // forbidden bit, a MemAttr KVM uses, inner shareable, and never executable device memory.
  z3::expr well_formed_leaf(const z3::expr& d, unsigned level, const S2Config& c) const;
  z3::expr well_formed_table(const z3::expr& d, unsigned level, const S2Config& c) const;
  // An owner annotation: invalid, nothing but the owner id in bits [9:2].
  z3::expr owner_annotation(const z3::expr& d) const;

  // Device memory is never executable.
  z3::expr device_not_executable(const z3::expr& d, bool fwb) const;

  // The value of bits [hi:lo] of d, zero-extended to 64 bits.
  z3::expr bits(const z3::expr& d, unsigned hi, unsigned lo) const;
  z3::expr bit(const z3::expr& d, unsigned n) const;  // a Boolean

 private:
  z3::expr any_field(const z3::expr& d, const std::vector<ForbiddenField>& fields) const;

  z3::context& ctx_;
};

}  // namespace mmudiff::models
