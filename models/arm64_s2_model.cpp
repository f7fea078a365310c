// SPDX-License-Identifier: GPL-2.0-only
#include "models/arm64_s2_model.h"

#include <fmt/format.h>

namespace mmudiff::models {

namespace {

constexpr unsigned kPageShift = 12;  // 4 KiB granule
constexpr unsigned kLastLevel = 3;

unsigned block_shift(unsigned level) {
  return kPageShift + 9 * (kLastLevel - level);
}

}  // namespace

const std::vector<unsigned>& pa_sizes() {
  static const std::vector<unsigned> kSizes = {32, 36, 40, 42, 44, 48};
  return kSizes;
}

// Each level resolves 9 bits above the 12-bit page offset, and the start level may concatenate up
// to 16 pages (4 more bits); a stage-2 walk never has fewer than two levels.
unsigned start_level_for(unsigned ia_bits) {
  unsigned resolved = ia_bits - kPageShift - 4;
  unsigned levels = (resolved + 8) / 9;
  if (levels < 2) levels = 2;
  return 4 - levels;
}

z3::expr Arm64S2Model::bits(const z3::expr& d, unsigned hi, unsigned lo) const {
  z3::expr field = d.extract(hi, lo);
  return hi - lo + 1 == 64 ? field : z3::zext(field, 64 - (hi - lo + 1));
}

z3::expr Arm64S2Model::bit(const z3::expr& d, unsigned n) const {
  return d.extract(n, n) == ctx_.bv_val(1, 1);
}

z3::expr Arm64S2Model::valid(const z3::expr& d) const {
  return bit(d, 0);
}

// Bits [1:0]: 0b11 is a table above level 3 and a page at it; 0b01 is a block at levels 1 and 2
// only (a level-0 block needs FEAT_LPA2 and 52-bit OAs; level 3 has no blocks).
z3::expr Arm64S2Model::is_table(const z3::expr& d, unsigned level) const {
  return level < kLastLevel ? valid(d) && bit(d, 1) : ctx_.bool_val(false);
}

z3::expr Arm64S2Model::is_block(const z3::expr& d, unsigned level) const {
  return level == 1 || level == 2 ? valid(d) && !bit(d, 1) : ctx_.bool_val(false);
}

z3::expr Arm64S2Model::is_page(const z3::expr& d, unsigned level) const {
  return level == kLastLevel ? valid(d) && bit(d, 1) : ctx_.bool_val(false);
}

z3::expr Arm64S2Model::is_leaf(const z3::expr& d, unsigned level) const {
  return is_block(d, level) || is_page(d, level);
}

z3::expr Arm64S2Model::is_reserved_encoding(const z3::expr& d, unsigned level) const {
  return valid(d) && !is_table(d, level) && !is_leaf(d, level);
}

z3::expr Arm64S2Model::output_address(const z3::expr& d) const {
  return z3::shl(bits(d, 47, 12), ctx_.bv_val(12, 64));
}
// Arm ARM, VMSAv8-64 descriptor formats, 4KB granule with 52-bit OA (VTCR_EL2.DS == 1):
// OA[49:12] in bits [49:12], OA[51:50] in bits [9:8].
z3::expr Arm64S2Model::output_address_ds(const z3::expr& d) const {
  return z3::shl(bits(d, 49, 12), ctx_.bv_val(12, 64)) |
         z3::shl(bits(d, 9, 8), ctx_.bv_val(50, 64));
}
z3::expr Arm64S2Model::mem_attr(const z3::expr& d) const {
  return bits(d, 5, 2);
}
z3::expr Arm64S2Model::readable(const z3::expr& d) const {
  return bit(d, 6);
}
z3::expr Arm64S2Model::writable(const z3::expr& d) const {
  return bit(d, 7);
}
z3::expr Arm64S2Model::shareability(const z3::expr& d) const {
  return bits(d, 9, 8);
}
z3::expr Arm64S2Model::accessed(const z3::expr& d) const {
  return bit(d, 10);
}
z3::expr Arm64S2Model::xn(const z3::expr& d) const {
  return bits(d, 54, 53);
}
z3::expr Arm64S2Model::software(const z3::expr& d) const {
  return bits(d, 58, 55);
}
z3::expr Arm64S2Model::owner_id(const z3::expr& d) const {
  return bits(d, 9, 2);
}

// XN[1:0]: 00 executable at EL1 and EL0; with FEAT_XNX 01 forbids EL1 only and 11 EL0 only;
// 10 forbids both.
z3::expr Arm64S2Model::executable(const z3::expr& d) const {
  return xn(d) != ctx_.bv_val(0b10, 64);
}

// Without FWB MemAttr[3:2] is the outer cacheability, 00 meaning Device; with FEAT_S2FWB
// MemAttr[2] clear means Device and MemAttr[3] must be zero.
z3::expr Arm64S2Model::device(const z3::expr& d, bool fwb) const {
  z3::expr a = mem_attr(d);
  if (fwb) return (a & ctx_.bv_val(0b0100, 64)) == ctx_.bv_val(0, 64);
  return (a & ctx_.bv_val(0b1100, 64)) == ctx_.bv_val(0, 64);
}

z3::expr Arm64S2Model::normal_write_back(const z3::expr& d, bool fwb) const {
  // Non-FWB: outer WB (11) and inner WB (11). FWB: 0b0110 forces write-back.
  return mem_attr(d) == ctx_.bv_val(fwb ? 0b0110 : 0b1111, 64);
}

z3::expr Arm64S2Model::normal_non_cacheable(const z3::expr& d, bool fwb) const {
  // Non-FWB: outer NC (MemAttr[3:2] = 01) and inner NC ([1:0] = 01). FWB: [3] clear, [2] set
  // (normal), [1:0] = 01 (non-cacheable).
  (void)fwb;  // both encodings are 0b0101
  return mem_attr(d) == ctx_.bv_val(0b0101, 64);
}

z3::expr Arm64S2Model::mem_attr_reserved(const z3::expr& d, bool fwb) const {
  z3::expr a = mem_attr(d);
  if (fwb) {
    // MemAttr[3] set, or Normal (MemAttr[2]) with MemAttr[1:0] = 00.
    return bit(d, 5) || a == ctx_.bv_val(0b0100, 64);
  }
  // Normal memory (MemAttr[3:2] != 00) whose inner cacheability MemAttr[1:0] is 00.
  return (a & ctx_.bv_val(0b1100, 64)) != ctx_.bv_val(0, 64) &&
         (a & ctx_.bv_val(0b0011, 64)) == ctx_.bv_val(0, 64);
}

std::vector<ForbiddenField> Arm64S2Model::leaf_forbidden_fields(unsigned level,
                                                                const S2Config& c) const {
  std::vector<ForbiddenField> f = {
      {11, 11, "bit 11: RES0 at stage 2 (nG at stage 1)"},
      {49, 48, "OA[49:48]: RES0 without FEAT_LPA2"},
      {50, 50, "bit 50: RES0 at stage 2"},
      {51, 51, "DBM: KVM does no hardware dirty tracking and never sets it"},
      {52, 52, "Contiguous: KVM never sets the contiguous hint"},
      {53, 53, "XN[0]: KVM writes XN[1] only, never FEAT_XNX's split"},
      {62, 59, "PBHA[3:0]: IMPLEMENTATION DEFINED, KVM never sets them"},
      {63, 63, "bit 63: KVM never sets it"},
  };
  if (c.pa_bits < 48)
    f.push_back({47, c.pa_bits, fmt::format("OA at or above 2^{} (the PA size)", c.pa_bits),
                 ForbiddenField::Kind::PaSize});
  if (level < kLastLevel)
    f.push_back({block_shift(level) - 1, kPageShift,
                 fmt::format("OA[{}:12]: RES0 in a level-{} block (alignment)",
                             block_shift(level) - 1, level),
                 ForbiddenField::Kind::Alignment});
  return f;
}

// A stage-2 table descriptor: bits [11:2] and [58:52] are IGNORED, [51:48] RES0 without LPA2,
// [63:59] RES0 (the hierarchical controls are stage 1's). KVM writes none of them.
std::vector<ForbiddenField> Arm64S2Model::table_forbidden_fields(const S2Config& c) const {
  std::vector<ForbiddenField> f = {
      {11, 2, "table bits [11:2]: IGNORED, KVM writes only the address and type"},
      {51, 48, "table bits [51:48]: RES0 without FEAT_LPA2"},
      {58, 52, "table bits [58:52]: IGNORED, KVM writes only the address and type"},
      {63, 59, "table bits [63:59]: RES0 at stage 2 (hierarchical controls are stage 1's)"},
  };
  if (c.pa_bits < 48)
    f.push_back({47, c.pa_bits, fmt::format("next-level table at or above 2^{}", c.pa_bits),
                 ForbiddenField::Kind::PaSize});
  return f;
}

z3::expr Arm64S2Model::any_field(const z3::expr& d,
                                 const std::vector<ForbiddenField>& fields) const {
  z3::expr any = ctx_.bool_val(false);
  for (const ForbiddenField& f : fields) any = any || bits(d, f.hi, f.lo) != ctx_.bv_val(0, 64);
  return any;
}

z3::expr Arm64S2Model::leaf_sets_forbidden_bit(const z3::expr& d, unsigned level,
                                               const S2Config& c) const {
  return any_field(d, leaf_forbidden_fields(level, c));
}

z3::expr Arm64S2Model::table_sets_forbidden_bit(const z3::expr& d, const S2Config& c) const {
  return any_field(d, table_forbidden_fields(c));
}

std::string Arm64S2Model::forbidden_reason(uint64_t d, unsigned level, bool table,
                                           const S2Config& c) const {
  for (const ForbiddenField& f :
       table ? table_forbidden_fields(c) : leaf_forbidden_fields(level, c)) {
    uint64_t mask = (~uint64_t{0} >> (63 - f.hi)) & (~uint64_t{0} << f.lo);
    if (d & mask) return f.why;
  }
  return "";
}

z3::expr Arm64S2Model::device_not_executable(const z3::expr& d, bool fwb) const {
  return z3::implies(device(d, fwb), !executable(d));
}

z3::expr Arm64S2Model::well_formed_leaf(const z3::expr& d, unsigned level,
                                        const S2Config& c) const {
  if (level < start_level_for(c.ia_bits)) return ctx_.bool_val(false);
  z3::expr kvm_mem_attr =
      c.fwb ? mem_attr(d) == ctx_.bv_val(0b0110, 64) || mem_attr(d) == ctx_.bv_val(0b0001, 64)
            : mem_attr(d) == ctx_.bv_val(0b1111, 64) || mem_attr(d) == ctx_.bv_val(0b0001, 64);
  return is_leaf(d, level) && !leaf_sets_forbidden_bit(d, level, c) && kvm_mem_attr &&
         !mem_attr_reserved(d, c.fwb) && shareability(d) == ctx_.bv_val(0b11, 64) &&
         device_not_executable(d, c.fwb);
}

z3::expr Arm64S2Model::well_formed_table(const z3::expr& d, unsigned level,
                                         const S2Config& c) const {
  if (level < start_level_for(c.ia_bits)) return ctx_.bool_val(false);
  return is_table(d, level) && !table_sets_forbidden_bit(d, c);
}

z3::expr Arm64S2Model::owner_annotation(const z3::expr& d) const {
  return !valid(d) && (d & ctx_.bv_val(~uint64_t{0x3fc}, 64)) == ctx_.bv_val(0, 64);
}

}  // namespace mmudiff::models
