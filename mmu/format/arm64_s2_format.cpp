// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/format/arm64_s2_format.h"

#include <fmt/format.h>

#include "mmu/format/arm64_s2.h"
#include "mmu/format/decode.h"

namespace mmudiff {

namespace {

using namespace arm64s2;

// Stage-2 MemAttr[3:0] (Arm ARM, "Stage 2 memory type and Cacheability attributes"). Without
// FEAT_S2FWB: [3:2] outer, [1:0] inner cacheability (01 NC, 10 WT, 11 WB), outer 00 is device.
// With FWB: [2] clear is device (whatever [3] holds: counting such an encoding as device keeps
// the no-executable-device rule on the safe side), [3] set otherwise reserved, else [1:0] says
// NC, forced WB, or "stage 1 decides".
MemoryType memory_type(uint64_t attr, bool fwb) {
  if (fwb) {
    if (!(attr & 0x4)) return MemoryType::Device;
    if (attr & 0x8) return MemoryType::Reserved;
    static constexpr MemoryType normal[] = {MemoryType::Reserved, MemoryType::NormalNonCacheable,
                                            MemoryType::NormalWriteBack,
                                            MemoryType::NormalFromStage1};
    return normal[attr & 3];
  }
  uint64_t outer = attr >> 2, inner = attr & 3;
  if (outer == 0) return MemoryType::Device;
  if (inner == 0) return MemoryType::Reserved;
  if (outer != inner) return MemoryType::NormalMixed;
  static constexpr MemoryType same[] = {MemoryType::Reserved, MemoryType::NormalNonCacheable,
                                        MemoryType::NormalWriteThrough,
                                        MemoryType::NormalWriteBack};
  return same[inner];
}

// LPA2: FEAT_LPA2 with VTCR_EL2.DS = 1, a format of its own since the same bits [9:8] are SH
// in one and OA[51:50] in the other.
class Arm64S2Format4K final : public DescriptorFormat {
 public:
  explicit Arm64S2Format4K(bool lpa2) : lpa2_(lpa2) {}

  std::string_view name() const override { return lpa2_ ? "arm64-s2-4k-lpa2" : "arm64-s2-4k"; }
  std::string_view description() const override {
    return lpa2_ ? "Arm64 stage 2 (VMSAv8-64), 4 KiB granule, FEAT_LPA2 (DS=1): 52-bit PA, "
                   "IPA 32-48 bits"
                 : "Arm64 stage 2 (VMSAv8-64), 4 KiB granule, 48-bit PA, IPA 32-48 bits";
  }

  unsigned page_shift() const override { return kPageShift; }
  unsigned levels() const override { return kLevels; }
  unsigned entries_per_table() const override { return kEntriesPerTable; }
  unsigned index_shift(unsigned level) const override { return granule_shift(level); }
  unsigned min_ia_bits() const override { return kMinIaBits; }
  unsigned max_ia_bits() const override { return kMaxIaBits; }
  unsigned pa_bits() const override { return lpa2_ ? kPaBitsLpa2 : kPaBits; }
  unsigned max_root_pages() const override { return kMaxPgdPages; }
  TableGeometry geometry(unsigned ia_bits) const override {
    Geometry g = geometry_for(ia_bits);
    return {g.ia_bits, g.start_level, g.pgd_pages};
  }

  DescriptorKind classify(uint64_t desc, unsigned level) const override {
    return arm64s2::classify(desc, level);
  }
  void classify_page(std::span<const uint64_t> entries, unsigned level,
                     std::span<DescriptorKind> kinds) const override {
    for (size_t i = 0; i < entries.size() && i < kinds.size(); ++i)
      kinds[i] = arm64s2::classify(entries[i], level);
  }
  uint64_t table_address_mask(unsigned) const override {
    return arm64s2::table_address_mask(lpa2_);
  }
  uint64_t next_table_address(uint64_t desc, unsigned) const override {
    return arm64s2::output_address(desc, lpa2_);
  }
  uint64_t output_address(uint64_t desc, unsigned) const override {
    return arm64s2::output_address(desc, lpa2_);
  }
  uint64_t block_misalignment(uint64_t desc, unsigned level) const override {
    return level < kLastLevel ? desc & genmask(granule_shift(level) - 1, kPageShift) : 0;
  }
  uint64_t leaf_reserved_mask(unsigned level) const override {
    return arm64s2::leaf_reserved_mask(level, lpa2_);
  }
  uint64_t table_reserved_mask(unsigned) const override {
    return arm64s2::table_reserved_mask(lpa2_);
  }
  uint64_t translation_attr_mask() const override {
    return kMemAttrMask | kS2apR | kS2apW | (lpa2_ ? 0 : kShMask) | kAf | kXnMask | kSwMask;
  }
  // Either way the output address and the memory type (SH is in the LPA2 OA mask's bits [9:8]).
  uint64_t break_before_make_mask() const override {
    return arm64s2::table_address_mask(lpa2_) | kMemAttrMask | kShMask;
  }

  LeafAttributes leaf_attributes(uint64_t desc, unsigned level, bool fwb) const override {
    LeafAttributes a;
    a.output_address = output_address(desc, level);
    a.permissions = permissions(desc);
    a.memory_type = memory_type((desc & kMemAttrMask) >> kMemAttrShift, fwb);
    a.accessed = desc & kAf;
    a.software = (desc & kSwMask) >> kSwShift;
    return a;
  }
  // S2AP[1:0] is W and R. XN[1:0] with FEAT_XNX: 00 executable at EL1 and EL0, 01 not at EL1,
  // 10 at neither, 11 not at EL0. Without FEAT_XNX, XN[0] is RES0 and XN[1] alone decides; a set
  // XN[0] may be honoured, so each EL counts as executable when either reading allows it.
  Permissions permissions(uint64_t attrs) const override {
    unsigned xn = static_cast<unsigned>((attrs & kXnMask) >> 53);
    Permissions p;
    p.read = attrs & kS2apR;
    p.write = attrs & kS2apW;
    p.exec_privileged = xn == 0 || xn == 3;
    p.exec_unprivileged = xn == 0 || xn == 1;
    return p;
  }
  std::string describe_attributes(uint64_t attrs) const override {
    if (lpa2_)
      return fmt::format("MemAttr={:#x} AF={} SW={:#x}", (attrs & kMemAttrMask) >> kMemAttrShift,
                         (attrs & kAf) ? 1 : 0, (attrs & kSwMask) >> kSwShift);
    return fmt::format("MemAttr={:#x} SH={} AF={} SW={:#x}",
                       (attrs & kMemAttrMask) >> kMemAttrShift, (attrs & kShMask) >> kShShift,
                       (attrs & kAf) ? 1 : 0, (attrs & kSwMask) >> kSwShift);
  }

  unsigned owner_annotation(uint64_t desc) const override {
    if ((desc & ~kOwnerMask) || desc == 0) return 0;
    return owner_of(desc);
  }
  unsigned max_owner_id() const override { return kMaxOwnerId; }
  unsigned owner_annotation_level() const override { return kLastLevel; }

  DecodedDescriptor decode(uint64_t raw, unsigned level, bool fwb) const override {
    return decode_descriptor(raw, level, fwb, lpa2_);
  }
  std::string describe(uint64_t raw, unsigned level, bool fwb) const override {
    return describe_descriptor(raw, level, fwb, lpa2_);
  }

 private:
  bool lpa2_;
};

}  // namespace

const DescriptorFormat& arm64_s2_4k_format() {
  static const Arm64S2Format4K format(false);
  return format;
}

const DescriptorFormat& arm64_s2_4k_lpa2_format() {
  static const Arm64S2Format4K format(true);
  return format;
}

const DescriptorFormat& arm64_s2_4k_format(bool lpa2) {
  return lpa2 ? arm64_s2_4k_lpa2_format() : arm64_s2_4k_format();
}

}  // namespace mmudiff
